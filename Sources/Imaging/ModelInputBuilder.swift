import Foundation

/// The images of one sample to the vision encoder's input [S, 3, H, W, D], as RadFM preprocesses them.
public struct ModelInputBuilder: Sendable {
    public let imageSize: Int
    public let maxImages: Int
    public var loader: ImageLoader
    public var preprocessor: RadFMPreprocessor

    /// `imageSize` is the config's vision.image_size; `maxImages` its max_images.
    public init(imageSize: Int, maxImages: Int, limits: DicomLimits = .default, window: IntensityWindow? = nil) {
        self.imageSize = imageSize
        self.maxImages = maxImages
        loader = ImageLoader(imageSize: imageSize, policy: SeriesSelectionPolicy(maxImages: maxImages), limits: limits)
        preprocessor = RadFMPreprocessor(imageSize: imageSize, window: window)
    }

    /// Images in argument order; a DICOM folder contributes its selected series, largest first.
    public func loadImages(_ images: [URL]) throws -> [ImageVolume] {
        var volumes: [ImageVolume] = []
        for url in images {
            guard volumes.count < maxImages else {
                throw ImageFileError(kind: .limitExceeded, path: url.path, message: "more than \(maxImages) images in one sample")
            }
            var loader = self.loader
            loader.policy.maxImages = maxImages - volumes.count
            volumes += try loader.load(url)
            if volumes.count > maxImages {
                throw ImageFileError(kind: .limitExceeded, path: url.path, message: "more than \(maxImages) images in one sample")
            }
        }
        return volumes
    }

    public func build(images: [URL]) throws -> (tensor: [Float], shape: [Int]) {
        let result = preprocessor.tensor(for: try loadImages(images))
        return (result.data, result.shape)
    }
}
