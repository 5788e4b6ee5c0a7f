import Foundation
import Training
import XCTest

final class EmbeddingGradientTests: XCTestCase {
    typealias G = GradientCheck

    func testFusedEmbeddingScattersGradientsToTokenFigureAndVisualRows() {
        var rng = SeededGenerator(seed: 21)
        let (vocabulary, hidden, visualCount) = (5, 3, 4)
        // Text ids, both figure markers, visual tokens 0 and 3, and token 1 twice (its gradient must sum).
        let ids: [Int32] = [1, 5, 7, 10, 6, 1, 2]
        let tokens = G.random(vocabulary * hidden, &rng), figure = G.random(2 * hidden, &rng)
        let visual = G.random(visualCount * hidden, &rng), r = G.rounded(G.random(ids.count * hidden, &rng))
        func reference(_ v: [[Double]]) -> Double {
            var loss = 0.0
            for (row, id) in ids.enumerated() {
                let value = Int(id)
                let (table, index) = value < vocabulary ? (v[0], value)
                    : value < vocabulary + 2 ? (v[1], value - vocabulary) : (v[2], value - vocabulary - 2)
                for j in 0..<hidden { loss += table[index * hidden + j] * r[row * hidden + j] }
            }
            return loss
        }
        let (tf, ff, vf) = (G.floats(tokens), G.floats(figure), G.floats(visual))
        var output = [Float](repeating: 0, count: ids.count * hidden)
        tf.withUnsafeBufferPointer { t in
            ff.withUnsafeBufferPointer { f in
                vf.withUnsafeBufferPointer { v in
                    EmbeddingOp.forward(ids, tables: EmbeddingOp.Tables(
                        tokens: t.baseAddress!, figureTokens: f.baseAddress!, visualTokens: v.baseAddress!,
                        visualTokenCount: visualCount, vocabulary: vocabulary, hidden: hidden), into: &output)
                }
            }
        }
        XCTAssertEqual(Array(output[3 * hidden..<4 * hidden]), Array(vf[3 * hidden..<4 * hidden]))
        var dTokens = [Float](repeating: 0, count: tokens.count), dFigure = [Float](repeating: 0, count: figure.count)
        var dVisual = [Float](repeating: 0, count: visual.count)
        EmbeddingOp.backward(G.floats(r), ids: ids, vocabulary: vocabulary, hidden: hidden,
                             visualTokenCount: visualCount, dTokens: &dTokens, dFigureTokens: &dFigure,
                             dVisualTokens: &dVisual)
        let inputs = [tokens, figure, visual]
        G.assertClose(dTokens, G.numeric(reference, at: inputs, input: 0), "dTokens")
        G.assertClose(dFigure, G.numeric(reference, at: inputs, input: 1), "dFigure")
        G.assertClose(dVisual, G.numeric(reference, at: inputs, input: 2), "dVisual")
    }

    func testIdsPastTheSamplesVisualTokensHaveNoSource() {
        XCTAssertNil(EmbeddingOp.source(of: 32_002 + 64, vocabulary: 32_000, visualTokenCount: 64))
        XCTAssertEqual(EmbeddingOp.source(of: 32_002 + 63, vocabulary: 32_000, visualTokenCount: 64), .visual(63))
        XCTAssertEqual(EmbeddingOp.source(of: 32_001, vocabulary: 32_000, visualTokenCount: 0), .figure(1))
        XCTAssertNil(EmbeddingOp.source(of: -1, vocabulary: 32_000, visualTokenCount: 0))
    }

    /// Patchify -> LayerNorm(patch_dim) -> Linear -> LayerNorm(dim) -> + strided 3D position embedding, the
    /// ViT's input side, with a grid smaller than the tables so the stride (N / n) is exercised.
    func testPatchEmbeddingAndStridedPositionEmbeddingMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 22)
        let (channels, height, width, depth, patch, framePatch) = (2, 4, 4, 4, 2, 2)
        let grid = PatchGrid(h: 2, w: 2, d: 2)
        let patchDim = patch * patch * framePatch * channels, dim = 6, third = dim / 3
        let tables = PositionEmbeddingOp.Tables(rows: 4, columns: 4, depths: 6, width: third)
        let image = G.random(channels * height * width * depth, &rng)
        var parameters = [
            G.random(patchDim, &rng, scale: 0.5).map { $0 + 1 }, G.random(patchDim, &rng),  // LN1 w, b
            G.random(dim * patchDim, &rng, scale: 0.5), G.random(dim, &rng),                // Linear w, b
            G.random(dim, &rng, scale: 0.5).map { $0 + 1 }, G.random(dim, &rng),            // LN2 w, b
            G.random(4 * third, &rng), G.random(4 * third, &rng), G.random(6 * third, &rng), // row, col, dep
        ]
        parameters = parameters.map(G.rounded)
        let r = G.rounded(G.random(grid.tokens * dim, &rng))
        var patches = [Float](repeating: 0, count: grid.tokens * patchDim)
        PatchifyOp.forward(G.floats(image), channels: channels, height: height, width: width, depth: depth,
                           patch: patch, framePatch: framePatch, into: &patches)
        let patchRows = patches.map(Double.init)

        func layerNorm(_ x: [Double], _ w: [Double], _ b: [Double], dim: Int) -> [Double] {
            stride(from: 0, to: x.count, by: dim).flatMap { start -> [Double] in
                let row = x[start..<start + dim]
                let mean = row.reduce(0, +) / Double(dim)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
                return row.enumerated().map { j, v in (v - mean) / (variance + 1e-5).squareRoot() * w[j] + b[j] }
            }
        }
        func reference(_ v: [[Double]]) -> Double {
            let normed = layerNorm(patchRows, v[0], v[1], dim: patchDim)
            var projected = [Double](repeating: 0, count: grid.tokens * dim)
            for t in 0..<grid.tokens {
                for o in 0..<dim {
                    projected[t * dim + o] = v[3][o]
                        + (0..<patchDim).map { normed[t * patchDim + $0] * v[2][o * patchDim + $0] }.reduce(0, +)
                }
            }
            let embedded = layerNorm(projected, v[4], v[5], dim: dim)
            var loss = 0.0
            for t in 0..<grid.tokens {
                let (hi, wi, di) = (t / (grid.w * grid.d), (t / grid.d) % grid.w, t % grid.d)
                let rowIndex = (hi + 1) * (4 / grid.h) - 1, columnIndex = (wi + 1) * (4 / grid.w) - 1
                let depthIndex = (di + 1) * (6 / grid.d) - 1
                for j in 0..<dim {
                    let position = j < third ? v[6][rowIndex * third + j]
                        : j < 2 * third ? v[7][columnIndex * third + j - third] : v[8][depthIndex * third + j - 2 * third]
                    loss += (embedded[t * dim + j] + position) * r[t * dim + j]
                }
            }
            return loss
        }

        // Float forward with saved activations, then the backward in reverse order.
        let p = parameters.map(G.floats)
        let rows = grid.tokens
        var normed = [Float](repeating: 0, count: rows * patchDim), mean1 = [Float](repeating: 0, count: rows)
        var rstd1 = [Float](repeating: 0, count: rows)
        LayerNormOp.forward(patches, rows: rows, dim: patchDim, weight: p[0], bias: p[1], epsilon: 1e-5,
                            into: &normed, mean: &mean1, inverseStd: &rstd1)
        var projected = [Float](repeating: 0, count: rows * dim)
        LinearOp.forward(normed, rows: rows, inFeatures: patchDim, weight: p[2], outFeatures: dim, bias: p[3],
                         into: &projected)
        var tokens = [Float](repeating: 0, count: rows * dim), mean2 = [Float](repeating: 0, count: rows)
        var rstd2 = [Float](repeating: 0, count: rows)
        LayerNormOp.forward(projected, rows: rows, dim: dim, weight: p[4], bias: p[5], epsilon: 1e-5, into: &tokens,
                            mean: &mean2, inverseStd: &rstd2)
        PositionEmbeddingOp.forward(tables, rowTable: p[6], columnTable: p[7], depthTable: p[8], grid: grid,
                                    tokens: &tokens)
        XCTAssertEqual(Double(zip(tokens, G.floats(r)).map { $0 * $1 }.reduce(0, +)), reference(parameters),
                       accuracy: 1e-4)

        var g = parameters.map { [Float](repeating: 0, count: $0.count) }
        var (dNorm1W, dNorm1B, dLinearW, dLinearB, dNorm2W, dNorm2B) = (g[0], g[1], g[2], g[3], g[4], g[5])
        var (dRow, dColumn, dDepth) = (g[6], g[7], g[8])
        let dTokens = G.floats(r)
        PositionEmbeddingOp.backward(tables, dTokens: dTokens, grid: grid, dRowTable: &dRow,
                                     dColumnTable: &dColumn, dDepthTable: &dDepth)
        var dProjected = [Float](repeating: 0, count: rows * dim)
        LayerNormOp.backward(dTokens, x: projected, rows: rows, dim: dim, weight: p[4], mean: mean2,
                             inverseStd: rstd2, dx: &dProjected, dWeight: &dNorm2W, dBias: &dNorm2B)
        var dNormed = [Float](repeating: 0, count: rows * patchDim)
        LinearOp.backward(dProjected, x: normed, rows: rows, inFeatures: patchDim, weight: p[2], outFeatures: dim,
                          dx: &dNormed, dWeight: &dLinearW, dBias: &dLinearB)
        LayerNormOp.backward(dNormed, x: patches, rows: rows, dim: patchDim, weight: p[0], mean: mean1,
                             inverseStd: rstd1, dx: nil, dWeight: &dNorm1W, dBias: &dNorm1B)
        g = [dNorm1W, dNorm1B, dLinearW, dLinearB, dNorm2W, dNorm2B, dRow, dColumn, dDepth]
        let names = ["norm1.w", "norm1.b", "linear.w", "linear.b", "norm2.w", "norm2.b", "row", "col", "dep"]
        for (index, name) in names.enumerated() {
            G.assertClose(g[index], G.numeric(reference, at: parameters, input: index), name)
        }
        // Table rows that no token of the grid reads get exactly zero.
        XCTAssertEqual(Array(g[6][0..<third]), [Float](repeating: 0, count: third), "row 0 unused with stride 2")
    }

    func testPatchifyOrdersValuesAsRadFMsRearrange() {
        // [C=2, H=2, W=2, D=2], one patch of 2x2x2: flattened (p1 p2 pf c), c fastest.
        let image = (0..<16).map(Float.init)
        var patches = [Float](repeating: -1, count: 16)
        PatchifyOp.forward(image, channels: 2, height: 2, width: 2, depth: 2, patch: 2, framePatch: 2, into: &patches)
        // value(c, h, w, d) = c*8 + h*4 + w*2 + d
        var expected: [Float] = []
        for h in 0..<2 { for w in 0..<2 { for d in 0..<2 { for c in 0..<2 { expected.append(Float(c * 8 + h * 4 + w * 2 + d)) } } } }
        XCTAssertEqual(patches, expected)
    }
}
