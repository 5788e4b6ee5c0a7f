import Foundation
import XCTest
@testable import Tensor

/// `Attention.multiHead` runs whole heads side by side when one head's products are too small to split
/// over the cores; each thread then has its own score matrix.
final class AttentionHeadsTests: XCTestCase {
    func testHeadsSideBySideGiveTheSameBitsAsOneAfterAnother() {
        let (heads, d, n) = (8, 16, 96)
        XCTAssertTrue(Matmul.runsOnOneThread(m: n, n: n, k: d), "the size must take the side-by-side path")
        let width = 3 * heads * d
        let packed = (0..<(n * width)).map { Float(sin(Double($0) * 0.113)) }
        var sideBySide = [Float](repeating: .nan, count: n * heads * d)
        var oneAfterAnother = sideBySide
        packed.withUnsafeBufferPointer { packed in
            let base = packed.baseAddress!
            func operands(_ output: UnsafeMutablePointer<Float>) -> Attention.Operands {
                Attention.Operands(query: base, queryStride: width, key: base + heads * d, keyStride: width,
                                   value: base + 2 * heads * d, valueStride: width, output: output,
                                   outputStride: heads * d, queryCount: n, keyCount: n)
            }
            sideBySide.withUnsafeMutableBufferPointer { out in
                Attention.multiHead(operands(out.baseAddress!), heads: heads, headDim: d, causal: true)
            }
            oneAfterAnother.withUnsafeMutableBufferPointer { out in
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
                defer { scores.deallocate() }
                for head in 0..<heads {
                    Attention.headWithGemm(operands(out.baseAddress!), head: head, headDim: d, causal: true,
                                           scores: scores, splitRows: true)
                }
            }
        }
        XCTAssertEqual(sideBySide.map(\.bitPattern), oneAfterAnother.map(\.bitPattern))
    }

    func testLargeHeadsAreSplitOverTheCoresInstead() throws {
        try XCTSkipIf(Parallel.coreCount == 1, "one core: every product runs on one thread")
        XCTAssertFalse(Matmul.runsOnOneThread(m: 4096, n: 4096, k: 64))
    }
}
