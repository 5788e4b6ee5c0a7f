import Foundation

/// Turns the model's image arguments (DICOM files or study folders, NIfTI, NPY, PNG, JPEG) into images.
public struct ImageLoader: Sendable {
    public var limits: DicomLimits
    public var policy: SeriesSelectionPolicy
    public let imageSize: Int

    public init(imageSize: Int, policy: SeriesSelectionPolicy, limits: DicomLimits = .default) {
        self.imageSize = imageSize
        self.policy = policy
        self.limits = limits
    }

    /// A folder is a DICOM study and yields the images the policy selects; a file yields one image.
    public func load(_ url: URL) throws -> [ImageVolume] {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageFileError(kind: .notFound, path: path, message: "no such file or folder")
        }
        if isDirectory.boolValue { return try loadStudy(paths: [path]) }
        let lower = path.lowercased()
        if lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") { return [try NiftiReader.read(path: path).volume(source: path)] }
        if lower.hasSuffix(".npy") { return [try npyImage(path)] }
        if lower.hasSuffix(".png") || lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") { return [try RasterImageReader.read(path: path)] }
        return try loadStudy(paths: [path])
    }

    private func loadStudy(paths: [String]) throws -> [ImageVolume] {
        let inventory = DicomStudyScanner.scan(paths: paths, limits: limits)
        let selected = policy.select(inventory.stacks)
        guard !selected.isEmpty else {
            let reasons = inventory.rejectedSeries.map(\.description) + inventory.skipped.map { "\($0.path): \($0.reason)" }
            throw ImageFileError(kind: .unsupportedFormat, path: paths.joined(separator: ", "),
                                 message: "no DICOM image to use" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")))
        }
        return try selected.map { try DicomVolumeLoader.load($0, limits: limits) }
    }

    /// [3, size, size, D] is a tensor already preprocessed (used as is); [H, W] a picture; [H, W, D] and
    /// [C, H, W, D] (C of 1 or 3) volumes in RadFM's array order.
    private func npyImage(_ path: String) throws -> ImageVolume {
        let array = try NpyFile.read(path: path)
        let shape = array.shape
        switch shape.count {
        case 2:
            return ImageVolume(depth: 1, rows: shape[0], columns: shape[1], channels: 1, data: array.data, isVolume: false,
                               scaling: .minMax, spacing: nil, source: path)
        case 3:
            return channelsLast(array.data, channels: 1, rows: shape[0], columns: shape[1], depth: shape[2], path: path,
                                scaling: .minMax)
        case 4 where shape[0] == 1 || shape[0] == 3:
            let preprocessed = shape[0] == 3 && shape[1] == imageSize && shape[2] == imageSize
                && RadFMPreprocessor.depthChoices.contains(shape[3])
            return channelsLast(array.data, channels: shape[0], rows: shape[1], columns: shape[2], depth: shape[3], path: path,
                                scaling: preprocessed ? .none : .minMax)
        default:
            throw ImageFileError(kind: .unsupportedFormat, path: path,
                                 message: "array shape \(shape) is not [H,W], [H,W,D] or [C,H,W,D] with C of 1 or 3")
        }
    }

    /// [C][H][W][D] (C order) to the volume layout [D][H][W][C].
    private func channelsLast(_ data: [Float], channels: Int, rows: Int, columns: Int, depth: Int, path: String,
                              scaling: ImageVolume.IntensityScaling) -> ImageVolume {
        let count = data.count
        let reordered = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            data.withUnsafeBufferPointer { source in
                for channel in 0..<channels {
                    for row in 0..<rows {
                        for column in 0..<columns {
                            let from = source.baseAddress! + ((channel * rows + row) * columns + column) * depth
                            for slice in 0..<depth {
                                out[((slice * rows + row) * columns + column) * channels + channel] = from[slice]
                            }
                        }
                    }
                }
            }
            initialized = count
        }
        return ImageVolume(depth: depth, rows: rows, columns: columns, channels: channels, data: reordered, isVolume: true,
                           scaling: scaling, spacing: nil, source: path)
    }
}
