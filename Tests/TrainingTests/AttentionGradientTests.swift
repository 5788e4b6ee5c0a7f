import Foundation
import Training
import XCTest

final class AttentionGradientTests: XCTestCase {
    typealias G = GradientCheck

    /// Float64 attention over strided operands; `sum(output * r)`. `dropout` holds the multiplier of each
    /// probability ([heads, queryCount, keyCount]: 0 or 1 / (1 - p)).
    static func referenceLoss(
        query: [Double], queryStride: Int, key: [Double], keyOffset: Int, value: [Double], valueOffset: Int,
        kvStride: Int, queryCount: Int, keyCount: Int, heads: Int, headDim: Int, causal: Bool, r: [Double],
        dropout: [Double]? = nil
    ) -> Double {
        var loss = 0.0
        let scale = 1 / Double(headDim).squareRoot()
        for head in 0..<heads {
            for i in 0..<queryCount {
                let visible = causal ? keyCount - queryCount + i + 1 : keyCount
                var scores = (0..<visible).map { j -> Double in
                    (0..<headDim).map { d in
                        query[i * queryStride + head * headDim + d] * key[keyOffset + j * kvStride + head * headDim + d]
                    }.reduce(0, +) * scale
                }
                let maximum = scores.max()!
                scores = scores.map { exp($0 - maximum) }
                let total = scores.reduce(0, +)
                for d in 0..<headDim {
                    var out = 0.0
                    for j in 0..<visible {
                        let multiplier = dropout?[(head * queryCount + i) * keyCount + j] ?? 1
                        out += scores[j] / total * multiplier * value[valueOffset + j * kvStride + head * headDim + d]
                    }
                    loss += out * r[i * heads * headDim + head * headDim + d]
                }
            }
        }
        return loss
    }

    /// Forward and backward of self-attention over one packed [tokens, q|k|v] buffer: the output and the
    /// gradient with respect to the packed buffer for output gradient `dOutput`.
    static func packedSelfAttention(
        _ layout: AttentionOp.Layout, packed: [Double], inner: Int, dOutput: [Double], dropout: DropoutMask? = nil
    ) -> (output: [Float], gradient: [Float]) {
        let input = G.floats(packed)
        var output = [Float](repeating: 0, count: layout.queryCount * inner)
        var probabilities = [Float](repeating: 0, count: layout.probabilityCount)
        var gradient = [Float](repeating: 0, count: packed.count)
        input.withUnsafeBufferPointer { p in
            let base = p.baseAddress!
            AttentionOp.forward(layout, query: base, key: base + inner, value: base + 2 * inner, output: &output,
                                probabilities: &probabilities, dropout: dropout)
            gradient.withUnsafeMutableBufferPointer { g in
                let d = g.baseAddress!
                AttentionOp.backward(layout, dOutput: G.floats(dOutput), query: base, key: base + inner,
                                     value: base + 2 * inner, probabilities: probabilities, dropout: dropout,
                                     dQuery: d, dKey: d + inner, dValue: d + 2 * inner)
            }
        }
        return (output, gradient)
    }

    func testCausalSelfAttentionOverPackedQKVMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 11)
        let (tokens, heads, headDim) = (5, 2, 4)
        let inner = heads * headDim
        let packed = G.rounded(G.random(tokens * 3 * inner, &rng, scale: 1.5))
        let r = G.rounded(G.random(tokens * inner, &rng))
        func reference(_ v: [[Double]]) -> Double {
            Self.referenceLoss(query: v[0], queryStride: 3 * inner, key: v[0], keyOffset: inner, value: v[0],
                               valueOffset: 2 * inner, kvStride: 3 * inner, queryCount: tokens, keyCount: tokens,
                               heads: heads, headDim: headDim, causal: true, r: r)
        }
        let layout = AttentionOp.Layout(queryCount: tokens, keyCount: tokens, heads: heads, headDim: headDim,
                                        causal: true, queryStride: 3 * inner, keyStride: 3 * inner,
                                        valueStride: 3 * inner, outputStride: inner)
        let (output, gradient) = Self.packedSelfAttention(layout, packed: packed, inner: inner, dOutput: r)
        XCTAssertEqual(Double(zip(output, G.floats(r)).map { $0 * $1 }.reduce(0, +)), reference([packed]), accuracy: 1e-4)
        G.assertClose(gradient, G.numeric(reference, at: [packed], input: 0), "d[q|k|v]")
    }

    func testCrossAttentionWithMoreKeysThanQueriesMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 12)
        let (queries, keys, heads, headDim) = (3, 6, 2, 4)
        let inner = heads * headDim
        let q = G.rounded(G.random(queries * inner, &rng, scale: 1.5))
        let kv = G.rounded(G.random(keys * 2 * inner, &rng, scale: 1.5))
        let r = G.rounded(G.random(queries * inner, &rng))
        func reference(_ v: [[Double]]) -> Double {
            Self.referenceLoss(query: v[0], queryStride: inner, key: v[1], keyOffset: 0, value: v[1],
                               valueOffset: inner, kvStride: 2 * inner, queryCount: queries, keyCount: keys,
                               heads: heads, headDim: headDim, causal: false, r: r)
        }
        let layout = AttentionOp.Layout(queryCount: queries, keyCount: keys, heads: heads, headDim: headDim,
                                        causal: false, queryStride: inner, keyStride: 2 * inner,
                                        valueStride: 2 * inner, outputStride: inner)
        let (qf, kvf) = (G.floats(q), G.floats(kv))
        var output = [Float](repeating: 0, count: queries * inner)
        var probabilities = [Float](repeating: 0, count: layout.probabilityCount)
        var dq = [Float](repeating: 0, count: q.count), dkv = [Float](repeating: 0, count: kv.count)
        kvf.withUnsafeBufferPointer { kvp in
            let base = kvp.baseAddress!
            AttentionOp.forward(layout, query: qf, key: base, value: base + inner, output: &output,
                                probabilities: &probabilities)
            dkv.withUnsafeMutableBufferPointer { g in
                AttentionOp.backward(layout, dOutput: G.floats(r), query: qf, key: base, value: base + inner,
                                     probabilities: probabilities, dQuery: &dq, dKey: g.baseAddress!,
                                     dValue: g.baseAddress! + inner)
            }
        }
        XCTAssertEqual(Double(zip(output, G.floats(r)).map { $0 * $1 }.reduce(0, +)), reference([q, kv]), accuracy: 1e-4)
        G.assertClose(dq, G.numeric(reference, at: [q, kv], input: 0), "dq")
        G.assertClose(dkv, G.numeric(reference, at: [q, kv], input: 1), "d[k|v]")
    }

    /// RadFM's ViT attention drops probabilities after the softmax; with the mask fixed, the loss is smooth
    /// and the backward (softmax gradient through the undropped probabilities) must match it.
    func testSelfAttentionWithDroppedProbabilitiesMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 13)
        let (tokens, heads, headDim) = (6, 2, 4)
        let inner = heads * headDim
        let packed = G.rounded(G.random(tokens * 3 * inner, &rng, scale: 1.5))
        let r = G.rounded(G.random(tokens * inner, &rng))
        let layout = AttentionOp.Layout(queryCount: tokens, keyCount: tokens, heads: heads, headDim: headDim,
                                        causal: false, queryStride: 3 * inner, keyStride: 3 * inner,
                                        valueStride: 3 * inner, outputStride: inner)
        let mask = DropoutMask(count: layout.probabilityCount, probability: 0.3, key: 77)
        var multipliers = [Float](repeating: 1, count: layout.probabilityCount)
        mask.apply(&multipliers)
        XCTAssertTrue(multipliers.contains(0) && multipliers.contains { $0 > 1 }, "the mask drops and scales")
        func reference(_ v: [[Double]]) -> Double {
            Self.referenceLoss(query: v[0], queryStride: 3 * inner, key: v[0], keyOffset: inner, value: v[0],
                               valueOffset: 2 * inner, kvStride: 3 * inner, queryCount: tokens, keyCount: tokens,
                               heads: heads, headDim: headDim, causal: false, r: r, dropout: multipliers.map(Double.init))
        }
        let (output, gradient) = Self.packedSelfAttention(layout, packed: packed, inner: inner, dOutput: r, dropout: mask)
        XCTAssertEqual(Double(zip(output, G.floats(r)).map { $0 * $1 }.reduce(0, +)), reference([packed]), accuracy: 1e-4)
        G.assertClose(gradient, G.numeric(reference, at: [packed], input: 0), "d[q|k|v] with dropout")
    }
}
