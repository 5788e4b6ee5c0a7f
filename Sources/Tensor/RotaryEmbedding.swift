import Foundation

/// Rotary position embedding as Hugging Face's LLaMA applies it: the head vector is split in halves
/// (not interleaved pairs), `x1' = x1 cos - x2 sin`, `x2' = x2 cos + x1 sin`. Frequencies are computed in
/// float32 as transformers does, so angles at long positions round the same way.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    let inverseFrequencies: [Float]

    public init(headDim: Int, theta: Float) {
        precondition(headDim % 2 == 0, "rotary head dimension \(headDim) is odd")
        self.headDim = headDim
        inverseFrequencies = (0..<headDim / 2).map { i in 1 / powf(theta, Float(2 * i) / Float(headDim)) }
    }

    /// Rotates `heads` head vectors in each of `rows` rows in place. Row `r` starts at `data + r * rowStride`
    /// and sits at sequence position `positions[r]`.
    public func apply(
        to data: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, heads: Int,
        positions: UnsafePointer<Int32>
    ) {
        let half = headDim / 2
        inverseFrequencies.withUnsafeBufferPointer { frequencies in
            Parallel.forEachChunk(rows, minimumChunk: 16) { range in
                let cosines = UnsafeMutablePointer<Float>.allocate(capacity: half)
                let sines = UnsafeMutablePointer<Float>.allocate(capacity: half)
                defer { cosines.deallocate(); sines.deallocate() }
                for row in range {
                    let position = Float(positions[row])
                    for i in 0..<half {
                        let angle = position * frequencies[i]
                        cosines[i] = cosf(angle)
                        sines[i] = sinf(angle)
                    }
                    for head in 0..<heads {
                        let x = data + row * rowStride + head * headDim
                        for i in 0..<half {
                            let first = x[i], second = x[i + half]
                            x[i] = first * cosines[i] - second * sines[i]
                            x[i + half] = second * cosines[i] + first * sines[i]
                        }
                    }
                }
            }
        }
    }
}
