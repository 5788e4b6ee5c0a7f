import Tensor

/// `torch.nn.utils.clip_grad_norm_` over all trainable gradients together.
public enum GradientClipping {
    /// Elements per partial sum. Fixed, not per thread, so the norm has the same bits on any core count.
    static let blockSize = 1 << 15

    /// The global L2 norm of the gradients (squares accumulated in Float64 so millions of them do not lose
    /// their small terms; fixed-size blocks summed in order, so the result is deterministic).
    public static func globalNorm(_ parameters: ParameterSet) -> Double {
        var total: Double = 0
        for parameter in parameters.trainable {
            guard let gradient = parameter.gradient?.baseAddress else { continue }
            total += sumOfSquares(gradient, count: parameter.count)
        }
        return total.squareRoot()
    }

    static func sumOfSquares(_ values: UnsafePointer<Float>, count: Int) -> Double {
        let blocks = (count + blockSize - 1) / blockSize
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: max(blocks, 1))
        defer { partial.deallocate() }
        Parallel.forEach(blocks) { block in
            let start = block * blockSize, end = min(start + blockSize, count)
            // Two four-lane accumulators: independent chains instead of one add latency per element.
            var even = SIMD4<Double>(), odd = SIMD4<Double>()
            var i = start
            while i + 8 <= end {
                let x = values + i
                let low = SIMD4<Double>(Double(x[0]), Double(x[1]), Double(x[2]), Double(x[3]))
                let high = SIMD4<Double>(Double(x[4]), Double(x[5]), Double(x[6]), Double(x[7]))
                even += low * low
                odd += high * high
                i += 8
            }
            var sum = (even + odd).sum()
            while i < end {
                sum += Double(values[i]) * Double(values[i])
                i += 1
            }
            partial[block] = sum
        }
        var total: Double = 0
        for block in 0..<blocks { total += partial[block] }
        return total
    }

    /// Scales every gradient by `maxNorm / (norm + 1e-6)` when that is below 1; returns the norm before
    /// clipping, which is what training logs report.
    @discardableResult
    public static func clip(_ parameters: ParameterSet, maxNorm: Double) -> Double {
        let norm = globalNorm(parameters)
        let coefficient = maxNorm / (norm + 1e-6)
        guard coefficient < 1 else { return norm }
        let scale = Float(coefficient)
        for parameter in parameters.trainable {
            guard let gradient = parameter.gradient?.baseAddress else { continue }
            Parallel.forEachChunk(parameter.count, minimumChunk: 1 << 16) { range in
                for i in range { gradient[i] *= scale }
            }
        }
        return norm
    }
}
