import CKernels
import XCTest
@testable import Tensor

/// The decode-step attention (one query per sequence against its whole cache) against the formula written
/// out in doubles, on head widths that hit the two-accumulator loop, the masked tail and both.
final class DecodeAttentionTests: XCTestCase {
    struct Problem {
        let query: [Float], keys: [Float], values: [Float], keyCount: Int
    }

    func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(sin(Double($0 * 7 + seed * 13) * 0.37)) }
    }

    /// Rows are `width` wide (heads side by side) with `padding` unused floats after them, like the cache
    /// rows of a wider model.
    func problem(keyCount: Int, width: Int, stride: Int, seed: Int) -> Problem {
        Problem(query: values(width, seed: seed), keys: values(keyCount * stride, seed: seed + 1),
                values: values(keyCount * stride, seed: seed + 2), keyCount: keyCount)
    }

    func reference(_ p: Problem, heads: Int, headDim: Int, stride: Int) -> [Double] {
        var out = [Double](repeating: 0, count: heads * headDim)
        for h in 0..<heads {
            let scores = (0..<p.keyCount).map { j in
                (0..<headDim).reduce(0.0) { $0 + Double(p.query[h * headDim + $1]) * Double(p.keys[j * stride + h * headDim + $1]) }
                    / Double(headDim).squareRoot()
            }
            let top = scores.max()!
            let weights = scores.map { Foundation.exp($0 - top) }
            let total = weights.reduce(0, +)
            for j in 0..<p.keyCount {
                for e in 0..<headDim { out[h * headDim + e] += weights[j] / total * Double(p.values[j * stride + h * headDim + e]) }
            }
        }
        return out
    }

    /// Runs `Attention.decodeStep` over `problems` and returns each problem's output row.
    func decode(_ problems: [Problem], heads: Int, headDim: Int, stride: Int) -> [[Float]] {
        var outputs = problems.map { _ in [Float](repeating: .nan, count: heads * headDim) }
        var operands: [Attention.Operands] = []
        for (index, p) in problems.enumerated() {
            let q = UnsafeMutablePointer<Float>.allocate(capacity: p.query.count)
            let k = UnsafeMutablePointer<Float>.allocate(capacity: p.keys.count)
            let v = UnsafeMutablePointer<Float>.allocate(capacity: p.values.count)
            let o = UnsafeMutablePointer<Float>.allocate(capacity: heads * headDim)
            q.initialize(from: p.query, count: p.query.count)
            k.initialize(from: p.keys, count: p.keys.count)
            v.initialize(from: p.values, count: p.values.count)
            o.initialize(from: outputs[index], count: heads * headDim)
            operands.append(Attention.Operands(query: q, queryStride: heads * headDim, key: k, keyStride: stride,
                                               value: v, valueStride: stride, output: o, outputStride: heads * headDim,
                                               queryCount: 1, keyCount: p.keyCount))
        }
        Attention.decodeStep(batch: operands, heads: heads, headDim: headDim)
        for (index, o) in operands.enumerated() {
            outputs[index] = Array(UnsafeBufferPointer(start: o.output, count: heads * headDim))
            o.query.deallocate(); o.key.deallocate(); o.value.deallocate(); o.output.deallocate()
        }
        return outputs
    }

    func testDecodeStepMatchesTheAttentionFormulaForEverySequenceOfABatch() {
        for (heads, headDim) in [(3, 20), (2, 40), (4, 16), (2, 128)] {
            let width = heads * headDim, stride = width + 5
            let problems = [1, 7, 33].enumerated().map {
                problem(keyCount: $0.element, width: width, stride: stride, seed: $0.offset * 10 + headDim)
            }
            let outputs = decode(problems, heads: heads, headDim: headDim, stride: stride)
            for (p, output) in zip(problems, outputs) {
                let expected = reference(p, heads: heads, headDim: headDim, stride: stride)
                for (value, wanted) in zip(output, expected) {
                    XCTAssertEqual(Double(value), wanted, accuracy: 1e-5, "\(heads)x\(headDim), \(p.keyCount) keys")
                }
            }
        }
    }

    /// A sequence decoded alone (its heads split over the cores) and inside a batch (one job per sequence)
    /// must give the same bits: batched generation is pinned to one-by-one generation token for token.
    func testDecodeStepGivesTheSameBitsAloneAndInsideABatch() {
        let (heads, headDim) = (5, 24)
        let width = heads * headDim
        let target = problem(keyCount: 19, width: width, stride: width, seed: 3)
        let others = [4, 40].map { problem(keyCount: $0, width: width, stride: width, seed: $0) }
        let alone = decode([target], heads: heads, headDim: headDim, stride: width)[0]
        let batched = decode(others + [target], heads: heads, headDim: headDim, stride: width)[2]
        XCTAssertEqual(alone, batched)
    }

    func testPortableDecodeKernelsMatchTheDispatchedOnes() {
        let (heads, headDim, keyCount) = (3, 36, 11)
        let stride = heads * headDim + 3
        let p = problem(keyCount: keyCount, width: heads * headDim, stride: stride, seed: 8)
        let weights = values(heads * keyCount, seed: 5)
        for (begin, end) in [(0, heads), (1, 3)] {
            var fast = [Float](repeating: 0, count: (end - begin) * keyCount), portable = fast
            radfm_decode_scores(p.query, p.keys, stride, keyCount, begin, end, headDim, 0.5, &fast)
            radfm_decode_scores_portable(p.query, p.keys, stride, keyCount, begin, end, headDim, 0.5, &portable)
            for (a, b) in zip(fast, portable) { XCTAssertEqual(a, b, accuracy: 1e-5) }

            var fastOut = [Float](repeating: 7, count: heads * headDim), portableOut = fastOut
            radfm_decode_weighted_values(weights, p.values, stride, keyCount, begin, end, headDim, &fastOut)
            radfm_decode_weighted_values_portable(weights, p.values, stride, keyCount, begin, end, headDim, &portableOut)
            for index in 0..<(heads * headDim) {
                let head = index / headDim
                if (begin..<end).contains(head) {
                    XCTAssertEqual(fastOut[index], portableOut[index], accuracy: 1e-5)
                } else {
                    XCTAssertEqual(fastOut[index], 7, "head \(head) outside the range was written")
                }
            }
        }
    }
}
