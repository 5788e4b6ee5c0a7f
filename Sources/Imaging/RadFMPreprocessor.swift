import Foundation

/// RadFM's image preprocessing: each image to [3, H, W, D] in [0, 1], all images of a sample sharing one
/// depth D, packed as [S, 3, H, W, D].
///
/// - Values go to [0, 1]: min-max over the whole image or volume (DICOM, NIfTI, NPY; after the optional
///   window), or /255 for 8-bit pictures. When max equals min the image becomes all zeros.
/// - Gray is copied to three channels.
/// - 2D pictures are resized to H x W bicubically as Pillow does, then repeated along depth.
/// - Volumes are resized to H x W x D nearest-neighbour as PyTorch's F.interpolate does.
/// - D is the value of {4, 8, ..., 64} nearest the deepest volume of the sample (4 without volumes),
///   ties going to the smaller, as RadFM's stack_images chooses it.
public struct RadFMPreprocessor: Sendable {
    public let imageSize: Int
    public var window: IntensityWindow?

    public init(imageSize: Int, window: IntensityWindow? = nil) {
        precondition(imageSize > 0, "image size must be positive")
        self.imageSize = imageSize
        self.window = window
    }

    public static let depthChoices = Array(stride(from: 4, through: 64, by: 4))

    /// The depth every image of a sample is resized to.
    public static func sampleDepth(for images: [ImageVolume]) -> Int {
        let deepest = images.filter(\.isVolume).map(\.depth).reduce(4, max)
        var chosen = 4
        for candidate in depthChoices where abs(candidate - deepest) < abs(chosen - deepest) { chosen = candidate }
        return chosen
    }

    /// The model input for one sample, shape [S, 3, H, W, D].
    public func tensor(for images: [ImageVolume]) -> (data: [Float], shape: [Int]) {
        let depth = Self.sampleDepth(for: images)
        let imageCount = imageSize * imageSize * depth * 3
        let total = imageCount * images.count
        let data = [Float](unsafeUninitializedCapacity: total) { buffer, initialized in
            for (index, image) in images.enumerated() {
                write(image, depth: depth, into: buffer.baseAddress! + index * imageCount)
            }
            initialized = total
        }
        return (data, [images.count, 3, imageSize, imageSize, depth])
    }

    /// One image as [3, H, W, depth] at `output`.
    func write(_ image: ImageVolume, depth: Int, into output: UnsafeMutablePointer<Float>) {
        let planeCount = imageSize * imageSize * depth
        let transform = intensityTransform(for: image)
        let ownChannels = image.channels == 3 ? 3 : 1
        if image.isVolume || image.scaling == .none {
            // Gray volumes write their copies row by row while the row is still in cache.
            let copies = ownChannels == 1 ? [output + planeCount, output + 2 * planeCount] : []
            for channel in 0..<ownChannels {
                writeNearest(image, channel: channel, depth: depth, transform: transform, into: output + channel * planeCount,
                             copies: copies)
            }
            return
        }
        for channel in 0..<ownChannels {
            writeBicubic(image, channel: channel, depth: depth, transform: transform, into: output + channel * planeCount)
        }
        for channel in ownChannels..<3 { (output + channel * planeCount).update(from: output, count: planeCount) }
    }

    /// (value - low) / range maps the image to [0, 1], after clamping to [lower, upper]; a division
    /// rather than a reciprocal multiply, so values round as RadFM's (x - min) / (max - min) and x / 255.
    struct IntensityTransform {
        let low: Float
        let range: Float
        let lower: Float
        let upper: Float

        @inline(__always) func callAsFunction(_ value: Float) -> Float { (min(max(value, lower), upper) - low) / range }
    }

    func intensityTransform(for image: ImageVolume) -> IntensityTransform {
        switch image.scaling {
        case .none:
            return IntensityTransform(low: 0, range: 1, lower: -.infinity, upper: .infinity)
        case .divideBy(let maximum):
            return IntensityTransform(low: 0, range: maximum, lower: -.infinity, upper: .infinity)
        case .minMax:
            let range = image.data.withUnsafeBufferPointer { ValueRange($0) }
            var low = range?.minimum ?? 0, high = range?.maximum ?? 0
            if let window {
                low = min(max(low, window.lower), window.upper)
                high = min(max(high, window.lower), window.upper)
            }
            let lower = window?.lower ?? -.infinity, upper = window?.upper ?? .infinity
            // A constant image has no range: it maps to zeros, never to NaN.
            guard high > low else { return IntensityTransform(low: 0, range: 1, lower: 0, upper: 0) }
            return IntensityTransform(low: low, range: high - low, lower: lower, upper: upper)
        }
    }

    /// Nearest-neighbour gather, one output row at a time: the row's [depth][width] tile is gathered from
    /// contiguous source rows, then transposed so depth is innermost, and copied to `copies` (the other
    /// channels of a gray image). Row bands run in parallel.
    private func writeNearest(_ image: ImageVolume, channel: Int, depth: Int, transform: IntensityTransform,
                              into output: UnsafeMutablePointer<Float>, copies: [UnsafeMutablePointer<Float>]) {
        let size = imageSize
        let rowIndex = NearestIndex.table(inputSize: image.rows, outputSize: size)
        let columnIndex = NearestIndex.table(inputSize: image.columns, outputSize: size).map { $0 * image.channels + channel }
        let sliceIndex = NearestIndex.table(inputSize: image.depth, outputSize: depth)
        let sliceStride = image.rows * image.columns * image.channels
        let rowStride = image.columns * image.channels
        let bands = min(size, max(1, ProcessInfo.processInfo.activeProcessorCount * 2))
        image.data.withUnsafeBufferPointer { source in
            columnIndex.withUnsafeBufferPointer { columns in
                DispatchQueue.concurrentPerform(iterations: bands) { band in
                    let tile = UnsafeMutablePointer<Float>.allocate(capacity: depth * size)
                    defer { tile.deallocate() }
                    for row in (band * size / bands)..<((band + 1) * size / bands) {
                        for slice in 0..<depth {
                            let sourceRow = source.baseAddress! + sliceIndex[slice] * sliceStride + rowIndex[row] * rowStride
                            let tileRow = tile + slice * size
                            for column in 0..<size { tileRow[column] = transform(sourceRow[columns[column]]) }
                        }
                        let outputRow = output + row * size * depth
                        for column in 0..<size {
                            let voxel = outputRow + column * depth
                            for slice in 0..<depth { voxel[slice] = tile[slice * size + column] }
                        }
                        for copy in copies { (copy + row * size * depth).update(from: outputRow, count: size * depth) }
                    }
                }
            }
        }
    }

    /// Pillow-exact bicubic resize of a 2D picture, repeated along depth.
    private func writeBicubic(_ image: ImageVolume, channel: Int, depth: Int, transform: IntensityTransform,
                              into output: UnsafeMutablePointer<Float>) {
        let size = imageSize
        let resampler = BicubicResampler(inputRows: image.rows, inputColumns: image.columns, outputRows: size, outputColumns: size)
        let pixels = image.rows * image.columns
        var resized = [Float](repeating: 0, count: size * size)
        image.data.withUnsafeBufferPointer { source in
            if case .divideBy = image.scaling {
                // 8-bit pictures resize in Pillow's 8-bit arithmetic, then scale.
                var plane = [UInt8](repeating: 0, count: pixels)
                for index in 0..<pixels { plane[index] = UInt8(clamping: Int(source[index * image.channels + channel])) }
                var bytes = [UInt8](repeating: 0, count: size * size)
                plane.withUnsafeBufferPointer { plane in
                    bytes.withUnsafeMutableBufferPointer { resampler.resize(plane, into: $0) }
                }
                for index in 0..<(size * size) { resized[index] = transform(Float(bytes[index])) }
            } else {
                var plane = [Float](repeating: 0, count: pixels)
                for index in 0..<pixels { plane[index] = transform(source[index * image.channels + channel]) }
                plane.withUnsafeBufferPointer { plane in
                    resized.withUnsafeMutableBufferPointer { resampler.resize(plane, into: $0) }
                }
            }
        }
        resized.withUnsafeBufferPointer { values in
            for pixel in 0..<(size * size) {
                (output + pixel * depth).update(repeating: values[pixel], count: depth)
            }
        }
    }
}
