import Foundation

/// Element-wise activations, in place over contiguous buffers.
public enum Activation {
    /// Exact GELU, `0.5 x (1 + erf(x / sqrt 2))`: PyTorch's `nn.GELU()` default, not the tanh variant.
    /// erf is evaluated eight lanes at a time with Abramowitz-Stegun 7.1.26 (absolute error below 1.5e-7),
    /// the same formula PyTorch's vectorised CPU kernel uses.
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minimumChunk: 1 << 15) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(x + i).storeBytes(of: 0.5 * v * (1 + erf(v * 0.70710678118654752)),
                                                          as: SIMD8<Float>.self)
                i += 8
            }
            while i < range.upperBound {
                x[i] = 0.5 * x[i] * (1 + erff(x[i] * 0.70710678118654752))
                i += 1
            }
        }
    }

    @inline(__always)
    static func erf(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let z = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
        let t = 1 / (1 + 0.3275911 * z)
        var p = SIMD8<Float>(repeating: 1.061405429)
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        let magnitude = 1 - p * t * VectorExp.exp(-z * z)
        // erf is odd: give the magnitude x's sign bit.
        let sign = unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x8000_0000
        return unsafeBitCast(unsafeBitCast(magnitude, to: SIMD8<UInt32>.self) | sign, to: SIMD8<Float>.self)
    }

    /// LLaMA's gated MLP activation over a [rows, 2 * width] matrix whose rows are `[gate | up]`:
    /// writes `silu(gate) * up` into `output` [rows, width].
    public static func siluGate(
        _ gateAndUp: UnsafePointer<Float>, rows: Int, width: Int, into output: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(rows, minimumChunk: max(1, (1 << 15) / max(width, 1))) { range in
            for row in range {
                let gate = gateAndUp + row * 2 * width, up = gate + width, out = output + row * width
                var i = 0
                while i + 8 <= width {
                    let g = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD8<Float>.self)
                    let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(out + i).storeBytes(of: g / (1 + VectorExp.exp(-g)) * u, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < width {
                    out[i] = gate[i] / (1 + expf(-gate[i])) * up[i]
                    i += 1
                }
            }
        }
    }
}
