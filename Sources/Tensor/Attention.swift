import CKernels

/// Scaled dot-product attention over row-major matrices whose rows hold all heads side by side
/// (`[tokens, heads * headDim]` with a row stride, so packed QKV projections are used in place).
public enum Attention {
    /// One attention problem: `queryCount` queries against `keyCount` keys and values.
    public struct Operands {
        public var query: UnsafePointer<Float>
        public var queryStride: Int
        public var key: UnsafePointer<Float>
        public var keyStride: Int
        public var value: UnsafePointer<Float>
        public var valueStride: Int
        public var output: UnsafeMutablePointer<Float>
        public var outputStride: Int
        public var queryCount: Int
        public var keyCount: Int

        public init(
            query: UnsafePointer<Float>, queryStride: Int, key: UnsafePointer<Float>, keyStride: Int,
            value: UnsafePointer<Float>, valueStride: Int, output: UnsafeMutablePointer<Float>,
            outputStride: Int, queryCount: Int, keyCount: Int
        ) {
            self.query = query; self.queryStride = queryStride
            self.key = key; self.keyStride = keyStride
            self.value = value; self.valueStride = valueStride
            self.output = output; self.outputStride = outputStride
            self.queryCount = queryCount; self.keyCount = keyCount
        }

        /// Number of keys query `i` may see. With a causal mask the queries are the last `queryCount`
        /// positions of the key sequence (a prefill continues the cache, a decode step is the newest token).
        @inline(__always)
        func visibleKeys(_ i: Int, causal: Bool) -> Int { causal ? keyCount - queryCount + i + 1 : keyCount }
    }

    /// Above this many score entries per head, scores go through sgemm; below it, the per-call overhead of
    /// BLAS dominates and direct loops over heads in parallel win (decode steps, short prompts).
    static let gemmThreshold = 64 * 64

    public static func multiHead(_ operands: Operands, heads: Int, headDim: Int, causal: Bool) {
        let scoreCount = operands.queryCount * operands.keyCount
        if scoreCount >= gemmThreshold {
            // A head's products too small to split over the cores (a 256-token volume, a 128-token prompt)
            // would leave the other cores idle, so whole heads run side by side instead.
            let headsSideBySide = Matmul.runsOnOneThread(m: operands.queryCount, n: operands.keyCount, k: headDim)
            // One score matrix per thread, reused by each of its heads: a 4096-token volume's is 64 MB,
            // and a fresh allocation per head pays its page faults again each time.
            Parallel.forEachChunk(heads, minimumChunk: headsSideBySide ? 1 : heads) { range in
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: scoreCount)
                defer { scores.deallocate() }
                for head in range {
                    headWithGemm(operands, head: head, headDim: headDim, causal: causal, scores: scores,
                                 splitRows: !headsSideBySide)
                }
            }
        } else {
            Parallel.forEach(heads) { head in singleHead(operands, head: head, headDim: headDim, causal: causal) }
        }
    }

    /// One decode step per problem: a single query that sees all `keyCount` keys (its own included),
    /// as in a batch of sequences each adding one token to its cache.
    ///
    /// Every head of a key row is scored in one sequential pass over the cache, then a per-head softmax,
    /// then one sequential pass over the value rows (`radfm_decode_*`). Jobs are (problem, head group)
    /// pairs, with heads split into groups only when there are fewer problems than cores.
    public static func decodeStep(batch: [Operands], heads: Int, headDim: Int) {
        guard !batch.isEmpty else { return }
        precondition(batch.allSatisfy { $0.queryCount == 1 }, "a decode step has one query per problem")
        let scale = 1 / Float(headDim).squareRoot()
        let groups = min(heads, max(1, (Parallel.coreCount + batch.count - 1) / batch.count))
        let headsPerGroup = (heads + groups - 1) / groups
        Parallel.forEach(batch.count * groups) { job in
            let o = batch[job / groups]
            let begin = (job % groups) * headsPerGroup, end = min(heads, begin + headsPerGroup)
            guard begin < end else { return }
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: (end - begin) * o.keyCount)
            defer { scores.deallocate() }
            radfm_decode_scores(o.query, o.key, o.keyStride, o.keyCount, begin, end, headDim, scale, scores)
            for head in 0..<(end - begin) {
                Softmax.row(scores + head * o.keyCount, length: o.keyCount, rowLength: o.keyCount)
            }
            radfm_decode_weighted_values(scores, o.value, o.valueStride, o.keyCount, begin, end, headDim, o.output)
        }
    }

    /// Direct loops for one head: scores by dot products, softmax, weighted sum of value rows.
    public static func singleHead(_ o: Operands, head: Int, headDim: Int, causal: Bool) {
        let scale = 1 / Float(headDim).squareRoot()
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(o.keyCount, 1))
        defer { scores.deallocate() }
        let offset = head * headDim
        for i in 0..<o.queryCount {
            let q = o.query + i * o.queryStride + offset
            let visible = o.visibleKeys(i, causal: causal)
            for j in 0..<visible {
                scores[j] = VectorMath.dot(q, o.key + j * o.keyStride + offset, headDim) * scale
            }
            Softmax.row(scores, length: visible, rowLength: visible)
            let out = o.output + i * o.outputStride + offset
            out.update(repeating: 0, count: headDim)
            for j in 0..<visible {
                VectorMath.addScaled(o.value + j * o.valueStride + offset, scores[j], into: out, headDim)
            }
        }
    }

    /// sgemm for one head: `S = scale * Q K^T`, masked row softmax, `O = S V`. `Matmul` splits the products
    /// over the cores when they are large enough; with `splitRows` the softmax rows are split too.
    static func headWithGemm(
        _ o: Operands, head: Int, headDim: Int, causal: Bool, scores: UnsafeMutablePointer<Float>, splitRows: Bool
    ) {
        let scale = 1 / Float(headDim).squareRoot()
        let offset = head * headDim
        Matmul.gemm(transposeB: true, m: o.queryCount, n: o.keyCount, k: headDim, alpha: scale,
                    a: o.query + offset, lda: o.queryStride, b: o.key + offset, ldb: o.keyStride,
                    c: scores, ldc: o.keyCount)
        let rowsPerChunk = splitRows ? max(1, 16_384 / o.keyCount) : o.queryCount
        Parallel.forEachChunk(o.queryCount, minimumChunk: rowsPerChunk) { range in
            for i in range {
                Softmax.row(scores + i * o.keyCount, length: o.visibleKeys(i, causal: causal), rowLength: o.keyCount)
            }
        }
        Matmul.gemm(m: o.queryCount, n: headDim, k: o.keyCount, a: scores, lda: o.keyCount,
                    b: o.value + offset, ldb: o.valueStride, c: o.output + offset, ldc: o.outputStride)
    }
}
