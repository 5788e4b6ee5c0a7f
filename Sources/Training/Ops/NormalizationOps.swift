import Dispatch
import Foundation
import Tensor

/// PyTorch `nn.LayerNorm` over rows of [rows, dim], keeping each row's mean and 1/std for the backward.
public enum LayerNormOp {
    public static func forward(
        _ x: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        epsilon: Float, into y: UnsafeMutablePointer<Float>,
        mean: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(rows, minimumChunk: max(1, 32_768 / max(dim, 1))) { range in
            for row in range {
                let input = x + row * dim, output = y + row * dim
                let mu = VectorMath.sum(input, dim) / Float(dim)
                var squares: Float = 0
                for i in 0..<dim {
                    let d = input[i] - mu
                    squares += d * d
                }
                let rstd = 1 / (squares / Float(dim) + epsilon).squareRoot()
                mean[row] = mu
                inverseStd[row] = rstd
                for i in 0..<dim { output[i] = (input[i] - mu) * rstd * weight[i] + bias[i] }
            }
        }
    }

    /// With xhat = (x - mean) * rstd and g = dy * w: dx += rstd * (g - mean(g) - xhat * mean(g * xhat)),
    /// dw += dy * xhat, db += dy.
    public static func backward(
        _ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?
    ) {
        RowChunks.run(rows: rows, dim: dim, weightGradients: [dWeight, dBias]) { range, partials in
            for row in range {
                let input = x + row * dim, gradient = dy + row * dim
                let (mu, rstd) = (mean[row], inverseStd[row])
                if let dx {
                    var meanG: Float = 0, meanGX: Float = 0
                    for i in 0..<dim {
                        let g = gradient[i] * weight[i]
                        meanG += g
                        meanGX += g * (input[i] - mu) * rstd
                    }
                    meanG /= Float(dim)
                    meanGX /= Float(dim)
                    let out = dx + row * dim
                    for i in 0..<dim {
                        let xhat = (input[i] - mu) * rstd
                        out[i] += rstd * (gradient[i] * weight[i] - meanG - xhat * meanGX)
                    }
                }
                if let dw = partials[0] { for i in 0..<dim { dw[i] += gradient[i] * (input[i] - mu) * rstd } }
                if let db = partials[1] { VectorMath.addScaled(gradient, 1, into: db, dim) }
            }
        }
    }
}

/// LLaMA's RMSNorm, `y = x * r * w` with `r = 1 / sqrt(mean(x^2) + eps)`, keeping r per row.
public enum RMSNormOp {
    public static func forward(
        _ x: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>, epsilon: Float,
        into y: UnsafeMutablePointer<Float>, inverseRMS: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(rows, minimumChunk: max(1, 32_768 / max(dim, 1))) { range in
            for row in range {
                let input = x + row * dim, output = y + row * dim
                let r = 1 / (VectorMath.dot(input, input, dim) / Float(dim) + epsilon).squareRoot()
                inverseRMS[row] = r
                for i in 0..<dim { output[i] = input[i] * r * weight[i] }
            }
        }
    }

    /// dx += r * (dy * w) - x * r^3 * mean(dy * w * x); dw += dy * x * r.
    public static func backward(
        _ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>,
        inverseRMS: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?
    ) {
        RowChunks.run(rows: rows, dim: dim, weightGradients: [dWeight]) { range, partials in
            for row in range {
                let input = x + row * dim, gradient = dy + row * dim
                let r = inverseRMS[row]
                if let dx {
                    var projection: Float = 0
                    for i in 0..<dim { projection += gradient[i] * weight[i] * input[i] }
                    let correction = r * r * r * projection / Float(dim)
                    let out = dx + row * dim
                    for i in 0..<dim { out[i] += r * gradient[i] * weight[i] - input[i] * correction }
                }
                if let dw = partials[0] { for i in 0..<dim { dw[i] += gradient[i] * input[i] * r } }
            }
        }
    }
}

/// Row-parallel backward of a normalisation: each chunk of rows writes its own rows of dx and sums its
/// weight gradients into private buffers, which are then added to the real ones in chunk order, so the
/// result does not depend on thread timing (resumed runs stay bit-identical).
enum RowChunks {
    static func run(
        rows: Int, dim: Int, weightGradients: [UnsafeMutablePointer<Float>?],
        _ body: (Range<Int>, [UnsafeMutablePointer<Float>?]) -> Void
    ) {
        let chunkCount = min(Parallel.coreCount, max(1, rows * dim / 32_768))
        guard chunkCount > 1 else {
            body(0..<rows, weightGradients)
            return
        }
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: chunkCount * weightGradients.count * dim)
        defer { partials.deallocate() }
        partials.initialize(repeating: 0, count: chunkCount * weightGradients.count * dim)
        func partial(_ chunk: Int, _ index: Int) -> UnsafeMutablePointer<Float> {
            partials + (chunk * weightGradients.count + index) * dim
        }
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let start = rows * chunk / chunkCount, end = rows * (chunk + 1) / chunkCount
            body(start..<end, weightGradients.indices.map { weightGradients[$0] == nil ? nil : partial(chunk, $0) })
        }
        for (index, gradient) in weightGradients.enumerated() {
            guard let gradient else { continue }
            for chunk in 0..<chunkCount { VectorMath.addScaled(partial(chunk, index), 1, into: gradient, dim) }
        }
    }
}
