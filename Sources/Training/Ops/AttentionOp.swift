import Tensor

/// Multi-head scaled dot-product attention whose forward keeps the softmax probabilities for the backward.
/// Rows hold all heads side by side with a row stride, as in `Attention.Operands`, so packed QKV and KV
/// projections are read and their gradients written in place.
public enum AttentionOp {
    public struct Layout {
        public var queryCount: Int
        public var keyCount: Int
        public var heads: Int
        public var headDim: Int
        /// Query i sees keys `0..<keyCount - queryCount + i + 1`: the queries are the last positions.
        public var causal: Bool
        public var queryStride: Int
        public var keyStride: Int
        public var valueStride: Int
        public var outputStride: Int

        public init(queryCount: Int, keyCount: Int, heads: Int, headDim: Int, causal: Bool, queryStride: Int,
                    keyStride: Int, valueStride: Int, outputStride: Int) {
            self.queryCount = queryCount; self.keyCount = keyCount; self.heads = heads; self.headDim = headDim
            self.causal = causal; self.queryStride = queryStride; self.keyStride = keyStride
            self.valueStride = valueStride; self.outputStride = outputStride
        }

        /// Floats of the probabilities buffer: [heads, queryCount, keyCount].
        public var probabilityCount: Int { heads * queryCount * keyCount }

        func visible(_ query: Int) -> Int { causal ? keyCount - queryCount + query + 1 : keyCount }
        var scale: Float { 1 / Float(headDim).squareRoot() }
    }

    /// `probabilities` keeps softmax(S) before dropout; `dropout` (a mask over [heads, queryCount, keyCount])
    /// drops probabilities after the softmax, as RadFM's ViT attention does, and is needed again in the backward.
    public static func forward(
        _ layout: Layout, query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>, dropout: DropoutMask? = nil
    ) {
        let (q, k) = (layout.queryCount, layout.keyCount)
        let dropped = dropout.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: max(q * k, 1)) }
        defer { dropped?.deallocate() }
        for head in 0..<layout.heads {
            let offset = head * layout.headDim
            let p = probabilities + head * q * k
            Matmul.gemm(transposeB: true, m: q, n: k, k: layout.headDim, alpha: layout.scale, a: query + offset,
                        lda: layout.queryStride, b: key + offset, ldb: layout.keyStride, c: p, ldc: k)
            for i in 0..<q { Softmax.row(p + i * k, length: layout.visible(i), rowLength: k) }
            var attend = UnsafePointer(p)
            if let dropout, let dropped {
                dropout.apply(p, into: dropped, offset: head * q * k, length: q * k)
                attend = UnsafePointer(dropped)
            }
            Matmul.gemm(m: q, n: layout.headDim, k: k, a: attend, lda: k, b: value + offset, ldb: layout.valueStride,
                        c: output + offset, ldc: layout.outputStride)
        }
    }

    /// Adds the gradients of query, key and value (same layouts as the forward's operands).
    /// With S the scaled scores, P = softmax(S) and D = P * mask (D = P without dropout): dV += D^T dO,
    /// dD = dO V^T, dP = dD * mask, dS = P * (dP - rowsum(P * dP)), dQ += scale dS K, dK += scale dS^T Q.
    public static func backward(
        _ layout: Layout, dOutput: UnsafePointer<Float>, query: UnsafePointer<Float>, key: UnsafePointer<Float>,
        value: UnsafePointer<Float>, probabilities: UnsafePointer<Float>, dropout: DropoutMask? = nil,
        dQuery: UnsafeMutablePointer<Float>, dKey: UnsafeMutablePointer<Float>, dValue: UnsafeMutablePointer<Float>
    ) {
        let (q, k, headDim) = (layout.queryCount, layout.keyCount, layout.headDim)
        let dScores = UnsafeMutablePointer<Float>.allocate(capacity: max(q * k, 1))
        let dropped = dropout.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: max(q * k, 1)) }
        defer {
            dScores.deallocate()
            dropped?.deallocate()
        }
        for head in 0..<layout.heads {
            let offset = head * headDim
            let p = probabilities + head * q * k
            var attended = p
            if let dropout, let dropped {
                dropout.apply(p, into: dropped, offset: head * q * k, length: q * k)
                attended = UnsafePointer(dropped)
            }
            Matmul.gemm(transposeA: true, m: k, n: headDim, k: q, a: attended, lda: k, b: dOutput + offset,
                        ldb: layout.outputStride, beta: 1, c: dValue + offset, ldc: layout.valueStride)
            Matmul.gemm(transposeB: true, m: q, n: k, k: headDim, a: dOutput + offset, lda: layout.outputStride,
                        b: value + offset, ldb: layout.valueStride, c: dScores, ldc: k)
            dropout?.apply(dScores, into: dScores, offset: head * q * k, length: q * k)
            for i in 0..<q {
                let probabilityRow = p + i * k, gradientRow = dScores + i * k
                let visible = layout.visible(i)
                let inner = VectorMath.dot(probabilityRow, gradientRow, visible)
                for j in 0..<visible { gradientRow[j] = probabilityRow[j] * (gradientRow[j] - inner) * layout.scale }
                for j in visible..<k { gradientRow[j] = 0 }
            }
            Matmul.gemm(m: q, n: headDim, k: k, a: dScores, lda: k, b: key + offset, ldb: layout.keyStride,
                        beta: 1, c: dQuery + offset, ldc: layout.queryStride)
            Matmul.gemm(transposeA: true, m: k, n: headDim, k: q, a: dScores, lda: k, b: query + offset,
                        ldb: layout.queryStride, beta: 1, c: dKey + offset, ldc: layout.keyStride)
        }
    }
}
