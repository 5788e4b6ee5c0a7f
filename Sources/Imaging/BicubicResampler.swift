import Foundation

/// Bicubic resizing exactly as Pillow's Image.resize(BICUBIC) computes it (RadFM resizes 2D pictures
/// with torchvision on PIL images): the cubic kernel with a = -0.5, widened by the scale factor when
/// shrinking (antialiasing), weights renormalised at the borders, a horizontal pass then a vertical one.
/// Float planes follow Pillow's 32-bit float path; 8-bit planes its fixed-point path with rounding and
/// clipping after each pass, so an 8-bit PNG resizes to the same bytes as in RadFM.
struct BicubicResampler {
    /// Pillow's per-output-pixel window: first source index, and normalised weights.
    struct Coefficients {
        let starts: [Int]
        let counts: [Int]
        let weights: [Double]
        let stride: Int

        init(inputSize: Int, outputSize: Int) {
            let scale = Double(inputSize) / Double(outputSize)
            let filterScale = max(scale, 1)
            let support = 2.0 * filterScale
            stride = Int(support.rounded(.up)) * 2 + 1
            var starts = [Int](repeating: 0, count: outputSize)
            var counts = [Int](repeating: 0, count: outputSize)
            var weights = [Double](repeating: 0, count: outputSize * stride)
            for output in 0..<outputSize {
                let center = (Double(output) + 0.5) * scale
                let first = max(0, Int(center - support + 0.5))
                let end = min(inputSize, Int(center + support + 0.5))
                var total = 0.0
                for tap in 0..<(end - first) {
                    let weight = BicubicResampler.kernel((Double(tap + first) - center + 0.5) / filterScale)
                    weights[output * stride + tap] = weight
                    total += weight
                }
                if total != 0 {
                    for tap in 0..<(end - first) { weights[output * stride + tap] /= total }
                }
                starts[output] = first
                counts[output] = end - first
            }
            self.starts = starts
            self.counts = counts
            self.weights = weights
        }

        /// Pillow's 8-bit path rounds each weight to fixed point with 22 fractional bits.
        func fixedPoint() -> [Int32] {
            weights.map { Int32($0 < 0 ? -0.5 + $0 * Double(1 << BicubicResampler.precisionBits)
                                        : 0.5 + $0 * Double(1 << BicubicResampler.precisionBits)) }
        }
    }

    static let precisionBits = 32 - 8 - 2

    static func kernel(_ x: Double) -> Double {
        let a = -0.5
        let x = abs(x)
        if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0
    }

    let inputRows: Int, inputColumns: Int, outputRows: Int, outputColumns: Int
    private let horizontal: Coefficients
    private let vertical: Coefficients

    init(inputRows: Int, inputColumns: Int, outputRows: Int, outputColumns: Int) {
        self.inputRows = inputRows
        self.inputColumns = inputColumns
        self.outputRows = outputRows
        self.outputColumns = outputColumns
        horizontal = Coefficients(inputSize: inputColumns, outputSize: outputColumns)
        vertical = Coefficients(inputSize: inputRows, outputSize: outputRows)
    }

    /// Resizes one float plane [rows][columns] (Pillow mode "F"; sums in double, no clipping).
    func resize(_ plane: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        var temporary = [Float](repeating: 0, count: inputRows * outputColumns)
        temporary.withUnsafeMutableBufferPointer { middle in
            if inputColumns == outputColumns {
                _ = middle.initialize(from: plane)
            } else {
                horizontal.weights.withUnsafeBufferPointer { weights in
                    for row in 0..<inputRows {
                        let source = plane.baseAddress! + row * inputColumns
                        let target = middle.baseAddress! + row * outputColumns
                        for column in 0..<outputColumns {
                            let start = horizontal.starts[column], taps = horizontal.counts[column]
                            let w = weights.baseAddress! + column * horizontal.stride
                            var sum = 0.0
                            for tap in 0..<taps { sum += Double(source[start + tap]) * w[tap] }
                            target[column] = Float(sum)
                        }
                    }
                }
            }
            if inputRows == outputRows {
                _ = output.initialize(from: UnsafeBufferPointer(middle))
                return
            }
            vertical.weights.withUnsafeBufferPointer { weights in
                for row in 0..<outputRows {
                    let start = vertical.starts[row], taps = vertical.counts[row]
                    let w = weights.baseAddress! + row * vertical.stride
                    let target = output.baseAddress! + row * outputColumns
                    for column in 0..<outputColumns {
                        var sum = 0.0
                        for tap in 0..<taps { sum += Double(middle[(start + tap) * outputColumns + column]) * w[tap] }
                        target[column] = Float(sum)
                    }
                }
            }
        }
    }

    /// Resizes one 8-bit plane [rows][columns] with Pillow's fixed-point arithmetic.
    func resize(_ plane: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) {
        let half = Int64(1) << (Self.precisionBits - 1)
        func clip(_ value: Int64) -> UInt8 {
            if value >= (Int64(1) << Self.precisionBits) << 8 { return 255 }
            if value <= 0 { return 0 }
            return UInt8(value >> Int64(Self.precisionBits))
        }
        var temporary = [UInt8](repeating: 0, count: inputRows * outputColumns)
        let horizontalWeights = horizontal.fixedPoint(), verticalWeights = vertical.fixedPoint()
        temporary.withUnsafeMutableBufferPointer { middle in
            if inputColumns == outputColumns {
                _ = middle.initialize(from: plane)
            } else {
                horizontalWeights.withUnsafeBufferPointer { weights in
                    for row in 0..<inputRows {
                        let source = plane.baseAddress! + row * inputColumns
                        for column in 0..<outputColumns {
                            let start = horizontal.starts[column], taps = horizontal.counts[column]
                            let w = weights.baseAddress! + column * horizontal.stride
                            var sum = half
                            for tap in 0..<taps { sum += Int64(source[start + tap]) * Int64(w[tap]) }
                            middle[row * outputColumns + column] = clip(sum)
                        }
                    }
                }
            }
            if inputRows == outputRows {
                _ = output.initialize(from: UnsafeBufferPointer(middle))
                return
            }
            verticalWeights.withUnsafeBufferPointer { weights in
                for row in 0..<outputRows {
                    let start = vertical.starts[row], taps = vertical.counts[row]
                    let w = weights.baseAddress! + row * vertical.stride
                    for column in 0..<outputColumns {
                        var sum = half
                        for tap in 0..<taps { sum += Int64(middle[(start + tap) * outputColumns + column]) * Int64(w[tap]) }
                        output[row * outputColumns + column] = clip(sum)
                    }
                }
            }
        }
    }
}
