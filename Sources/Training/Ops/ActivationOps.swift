import Foundation
import Tensor

/// Exact (erf) GELU, as the ViT and perceiver use it.
public enum GELUOp {
    /// `y = gelu(x)`; x is kept by the caller for the backward.
    public static func forward(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        if UnsafePointer(y) != x { y.update(from: x, count: count) }
        Activation.gelu(y, count: count)
    }

    /// gelu'(x) = Phi(x) + x phi(x).
    public static func backward(
        _ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, count: Int, dx: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(count, minimumChunk: 1 << 15) { range in
            for i in range {
                let v = x[i]
                let cdf = 0.5 * (1 + erff(v * 0.70710678118654752))
                let pdf = expf(-0.5 * v * v) * 0.39894228040143268
                dx[i] += dy[i] * (cdf + v * pdf)
            }
        }
    }
}

/// LLaMA's gated MLP activation over rows `[gate | up]`: `out = silu(gate) * up`.
public enum SiLUGateOp {
    public static func forward(
        _ gateAndUp: UnsafePointer<Float>, rows: Int, width: Int, into output: UnsafeMutablePointer<Float>
    ) {
        Activation.siluGate(gateAndUp, rows: rows, width: width, into: output)
    }

    /// d gate += dout * up * s (1 + g (1 - s)) with s = sigmoid(g); d up += dout * silu(g).
    public static func backward(
        _ dOutput: UnsafePointer<Float>, gateAndUp: UnsafePointer<Float>, rows: Int, width: Int,
        dGateAndUp: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(rows * width, minimumChunk: 1 << 15) { range in
            for index in range {
                let row = index / width, column = index - row * width
                let gateIndex = row * 2 * width + column, upIndex = gateIndex + width
                let g = gateAndUp[gateIndex], up = gateAndUp[upIndex]
                let s = 1 / (1 + expf(-g))
                dGateAndUp[gateIndex] += dOutput[index] * up * s * (1 + g * (1 - s))
                dGateAndUp[upIndex] += dOutput[index] * g * s
            }
        }
    }
}
