import Foundation

/// Element-wise activations, in place over contiguous buffers.
public enum Activation {
    /// Exact GELU, `0.5 x (1 + erf(x / sqrt 2))`: PyTorch's `nn.GELU()` default, not the tanh variant.
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.70710678118654752
        Parallel.forEachChunk(count, minimumChunk: 1 << 15) { range in
            for i in range {
                let v = x[i]
                x[i] = 0.5 * v * (1 + erff(v * invSqrt2))
            }
        }
    }

    /// LLaMA's gated MLP activation over a [rows, 2 * width] matrix whose rows are `[gate | up]`:
    /// writes `silu(gate) * up` into `output` [rows, width].
    public static func siluGate(
        _ gateAndUp: UnsafePointer<Float>, rows: Int, width: Int, into output: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(rows * width, minimumChunk: 1 << 15) { range in
            for index in range {
                let row = index / width, column = index - row * width
                let gate = gateAndUp[row * 2 * width + column]
                let up = gateAndUp[row * 2 * width + width + column]
                output[index] = gate / (1 + expf(-gate)) * up
            }
        }
    }
}

/// Softmax over the first `length` entries of a row; the rest of the row is set to 0, which is how the
/// causal mask is applied without materialising -inf entries.
public enum Softmax {
    @inlinable
    public static func row(_ x: UnsafeMutablePointer<Float>, length: Int, rowLength: Int) {
        var maximum = -Float.infinity
        for i in 0..<length where x[i] > maximum { maximum = x[i] }
        var total: Float = 0
        for i in 0..<length {
            let e = expf(x[i] - maximum)
            x[i] = e
            total += e
        }
        let inverse = 1 / total
        for i in 0..<length { x[i] *= inverse }
        if length < rowLength { (x + length).update(repeating: 0, count: rowLength - length) }
    }
}
