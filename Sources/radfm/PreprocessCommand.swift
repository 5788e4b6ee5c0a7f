import ArgumentParser
import Foundation
import Imaging

/// `radfm preprocess`: writes the float32 tensor [S, 3, H, W, D] the model would receive for the images.
struct PreprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Write the model input tensor [S,3,H,W,D] for images (DICOM files or folders, NIfTI, NPY, PNG, JPEG).")

    @Option(name: .customLong("image"), help: "An image file or DICOM study folder; repeat for several images.")
    var images: [String] = []

    @Option(help: "Output .npy file (float32).")
    var out: String

    @Option(help: "Height and width of each image (the config's vision.image_size).")
    var size: Int = 512

    @Option(name: .customLong("max-images"), help: "Most images per sample (the config's max_images).")
    var maxImages: Int = 100

    @Option(name: .customLong("window-center"), help: "Optional intensity window centre applied before min-max scaling.")
    var windowCenter: Float?

    @Option(name: .customLong("window-width"), help: "Optional intensity window width.")
    var windowWidth: Float?

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one --image") }
        guard size > 0 else { throw ValidationError("--size must be positive") }
        guard maxImages > 0 else { throw ValidationError("--max-images must be positive") }
        guard (windowCenter == nil) == (windowWidth == nil) else {
            throw ValidationError("--window-center and --window-width go together")
        }
        if let windowWidth, windowWidth <= 0 { throw ValidationError("--window-width must be positive") }
    }

    func run() throws {
        let window = windowCenter.map { IntensityWindow(center: $0, width: windowWidth!) }
        let builder = ModelInputBuilder(imageSize: size, maxImages: maxImages, window: window)
        let input = try builder.build(images: images.map { URL(fileURLWithPath: $0) })
        try NpyFile.write(NpyArray(shape: input.shape, data: input.tensor), to: out)
        print("wrote \(out) shape \(input.shape)")
    }
}
