import Tensor

/// Inverted dropout for one application site: element i is kept, and scaled by 1 / (1 - p), when a
/// counter-based hash of (key, i) is at or above p * 2^64. The mask is drawn once in the forward and kept
/// for the backward; the same key always gives the same mask, whatever the thread count, which is what
/// makes a resumed run draw exactly the masks of an uninterrupted one.
public final class DropoutMask {
    public let count: Int
    public let probability: Float
    /// 1 / (1 - p): the factor kept elements are multiplied by, so expectations match inference.
    public let scale: Float
    private let keep: UnsafeMutablePointer<UInt8>

    public init(count: Int, probability: Float, key: UInt64) {
        precondition((0..<1).contains(probability), "dropout probability \(probability) outside [0, 1)")
        self.count = count
        self.probability = probability
        scale = 1 / (1 - probability)
        keep = .allocate(capacity: max(count, 1))
        let threshold = UInt64(Double(probability) * 0x1p64)
        let keep = self.keep
        Parallel.forEachChunk(count, minimumChunk: 1 << 16) { range in
            for i in range { keep[i] = Self.hash(key, i) >= threshold ? 1 : 0 }
        }
    }

    deinit { keep.deallocate() }

    /// SplitMix64's finaliser over key + (i + 1) * golden ratio: independent bits for every (key, element).
    @inline(__always)
    static func hash(_ key: UInt64, _ index: Int) -> UInt64 {
        var z = key &+ (UInt64(index) &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `y[j] = x[j] * mask[offset + j]` for j in 0..<length (x and y may be the same buffer). The forward
    /// applies it to activations, the backward to their gradients: d(x * m)/dx = m.
    public func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, offset: Int = 0, length: Int? = nil) {
        let length = length ?? count - offset
        precondition(offset >= 0 && offset + length <= count, "dropout mask slice outside its \(count) elements")
        let (keep, scale) = (self.keep + offset, self.scale)
        Parallel.forEachChunk(length, minimumChunk: 1 << 15) { range in
            for j in range { y[j] = keep[j] != 0 ? x[j] * scale : 0 }
        }
    }

    /// In place over the whole mask.
    public func apply(_ x: UnsafeMutablePointer<Float>) { apply(x, into: x) }
}
