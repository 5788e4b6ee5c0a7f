import Foundation

/// Softmax over the first `length` entries of a row; the rest of the row is set to 0, which is how the
/// causal mask is applied without materialising -inf entries.
public enum Softmax {
    public static func row(_ x: UnsafeMutablePointer<Float>, length: Int, rowLength: Int) {
        var maxima = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= length {
            maxima = VectorExp.maximum(maxima, UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
            i += 8
        }
        var maximum = maxima.max()
        for j in i..<length where x[j] > maximum { maximum = x[j] }

        var sums = SIMD8<Float>()
        i = 0
        while i + 8 <= length {
            let e = VectorExp.exp(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - maximum)
            UnsafeMutableRawPointer(x + i).storeBytes(of: e, as: SIMD8<Float>.self)
            sums += e
            i += 8
        }
        var total = sums.sum()
        for j in i..<length {
            x[j] = expf(x[j] - maximum)
            total += x[j]
        }
        let inverse = 1 / total
        for j in 0..<length { x[j] *= inverse }
        if length < rowLength { (x + length).update(repeating: 0, count: rowLength - length) }
    }
}
