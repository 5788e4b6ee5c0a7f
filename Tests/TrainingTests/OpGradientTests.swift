import Foundation
import Tensor
import Training
import XCTest

/// Every backward pass against central finite differences of a float64 reference forward, with the loss
/// sum(output * R) for a fixed random R (so dOutput = R).
final class OpGradientTests: XCTestCase {
    typealias G = GradientCheck

    func testLinearGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 1)
        let (rows, inF, outF) = (3, 4, 5)
        let x = G.rounded(G.random(rows * inF, &rng)), w = G.rounded(G.random(outF * inF, &rng))
        let b = G.rounded(G.random(outF, &rng)), r = G.rounded(G.random(rows * outF, &rng))
        func reference(_ v: [[Double]]) -> Double {
            var loss = 0.0
            for i in 0..<rows {
                for o in 0..<outF {
                    var y = v[2][o]
                    for k in 0..<inF { y += v[0][i * inF + k] * v[1][o * inF + k] }
                    loss += y * r[i * outF + o]
                }
            }
            return loss
        }
        let (xf, wf, bf, rf) = (G.floats(x), G.floats(w), G.floats(b), G.floats(r))
        var y = [Float](repeating: 0, count: rows * outF)
        LinearOp.forward(xf, rows: rows, inFeatures: inF, weight: wf, outFeatures: outF, bias: bf, into: &y)
        XCTAssertEqual(Double(zip(y, rf).map { $0 * $1 }.reduce(0, +)), reference([x, w, b]), accuracy: 1e-4)
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count)
        var db = [Float](repeating: 0, count: b.count)
        LinearOp.backward(rf, x: xf, rows: rows, inFeatures: inF, weight: wf, outFeatures: outF,
                          dx: &dx, dWeight: &dw, dBias: &db)
        G.assertClose(dx, G.numeric(reference, at: [x, w, b], input: 0), "dx")
        G.assertClose(dw, G.numeric(reference, at: [x, w, b], input: 1), "dW")
        G.assertClose(db, G.numeric(reference, at: [x, w, b], input: 2), "db")
    }

    func testLayerNormGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 2)
        let (rows, dim) = (3, 6)
        let x = G.rounded(G.random(rows * dim, &rng, scale: 2)), w = G.rounded(G.random(dim, &rng))
        let b = G.rounded(G.random(dim, &rng)), r = G.rounded(G.random(rows * dim, &rng))
        let epsilon = 1e-5
        func reference(_ v: [[Double]]) -> Double {
            var loss = 0.0
            for i in 0..<rows {
                let row = Array(v[0][i * dim..<(i + 1) * dim])
                let mean = row.reduce(0, +) / Double(dim)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
                for j in 0..<dim {
                    loss += ((row[j] - mean) / (variance + epsilon).squareRoot() * v[1][j] + v[2][j]) * r[i * dim + j]
                }
            }
            return loss
        }
        let (xf, wf, bf, rf) = (G.floats(x), G.floats(w), G.floats(b), G.floats(r))
        var y = [Float](repeating: 0, count: x.count)
        var mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
        LayerNormOp.forward(xf, rows: rows, dim: dim, weight: wf, bias: bf, epsilon: Float(epsilon), into: &y,
                            mean: &mean, inverseStd: &rstd)
        XCTAssertEqual(Double(zip(y, rf).map { $0 * $1 }.reduce(0, +)), reference([x, w, b]), accuracy: 1e-4)
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: dim)
        var db = [Float](repeating: 0, count: dim)
        LayerNormOp.backward(rf, x: xf, rows: rows, dim: dim, weight: wf, mean: mean, inverseStd: rstd,
                             dx: &dx, dWeight: &dw, dBias: &db)
        G.assertClose(dx, G.numeric(reference, at: [x, w, b], input: 0), "dx")
        G.assertClose(dw, G.numeric(reference, at: [x, w, b], input: 1), "dW")
        G.assertClose(db, G.numeric(reference, at: [x, w, b], input: 2), "db")
    }

    func testRMSNormGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 3)
        let (rows, dim) = (3, 8)
        let x = G.rounded(G.random(rows * dim, &rng, scale: 2)), w = G.rounded(G.random(dim, &rng))
        let r = G.rounded(G.random(rows * dim, &rng))
        let epsilon = 1e-6
        func reference(_ v: [[Double]]) -> Double {
            var loss = 0.0
            for i in 0..<rows {
                let row = Array(v[0][i * dim..<(i + 1) * dim])
                let inverse = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(dim) + epsilon).squareRoot()
                for j in 0..<dim { loss += row[j] * inverse * v[1][j] * r[i * dim + j] }
            }
            return loss
        }
        let (xf, wf, rf) = (G.floats(x), G.floats(w), G.floats(r))
        var y = [Float](repeating: 0, count: x.count), inverse = [Float](repeating: 0, count: rows)
        RMSNormOp.forward(xf, rows: rows, dim: dim, weight: wf, epsilon: Float(epsilon), into: &y, inverseRMS: &inverse)
        XCTAssertEqual(Double(zip(y, rf).map { $0 * $1 }.reduce(0, +)), reference([x, w]), accuracy: 1e-4)
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: dim)
        RMSNormOp.backward(rf, x: xf, rows: rows, dim: dim, weight: wf, inverseRMS: inverse, dx: &dx, dWeight: &dw)
        G.assertClose(dx, G.numeric(reference, at: [x, w], input: 0), "dx")
        G.assertClose(dw, G.numeric(reference, at: [x, w], input: 1), "dW")
    }

    func testExactGELUGradientMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 4)
        let x = G.rounded(G.random(40, &rng, scale: 4)), r = G.rounded(G.random(40, &rng))
        func reference(_ v: [[Double]]) -> Double {
            zip(v[0], r).map { x, r in 0.5 * x * (1 + erf(x / 2.0.squareRoot())) * r }.reduce(0, +)
        }
        let xf = G.floats(x)
        var y = [Float](repeating: 0, count: x.count)
        GELUOp.forward(xf, count: x.count, into: &y)
        XCTAssertEqual(Double(zip(y, G.floats(r)).map { $0 * $1 }.reduce(0, +)), reference([x]), accuracy: 1e-4)
        var dx = [Float](repeating: 0, count: x.count)
        GELUOp.backward(G.floats(r), x: xf, count: x.count, dx: &dx)
        G.assertClose(dx, G.numeric(reference, at: [x], input: 0), "dx")
    }

    func testSiLUGateGradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 5)
        let (rows, width) = (3, 5)
        let x = G.rounded(G.random(rows * 2 * width, &rng, scale: 3)), r = G.rounded(G.random(rows * width, &rng))
        func reference(_ v: [[Double]]) -> Double {
            var loss = 0.0
            for i in 0..<rows {
                for j in 0..<width {
                    let g = v[0][i * 2 * width + j], up = v[0][i * 2 * width + width + j]
                    loss += g / (1 + exp(-g)) * up * r[i * width + j]
                }
            }
            return loss
        }
        let xf = G.floats(x)
        var y = [Float](repeating: 0, count: rows * width)
        SiLUGateOp.forward(xf, rows: rows, width: width, into: &y)
        XCTAssertEqual(Double(zip(y, G.floats(r)).map { $0 * $1 }.reduce(0, +)), reference([x]), accuracy: 1e-4)
        var dx = [Float](repeating: 0, count: x.count)
        SiLUGateOp.backward(G.floats(r), gateAndUp: xf, rows: rows, width: width, dGateAndUp: &dx)
        G.assertClose(dx, G.numeric(reference, at: [x], input: 0), "d[gate|up]")
    }

    func testCrossEntropySkipsIgnoredLabelsAndMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 6)
        let (rows, vocabulary) = (4, 7)
        let logits = G.rounded(G.random(rows * vocabulary, &rng, scale: 3))
        let targets: [Int32] = [3, -100, 0, 6]
        let counted = Double(targets.filter { $0 != -100 }.count)
        func reference(_ v: [[Double]]) -> Double {
            var loss = 0.0
            for (i, target) in targets.enumerated() where target != -100 {
                let row = v[0][i * vocabulary..<(i + 1) * vocabulary]
                let maximum = row.max()!
                loss += log(row.map { exp($0 - maximum) }.reduce(0, +)) + maximum - row[i * vocabulary + Int(target)]
            }
            return loss / counted
        }
        var dLogits = [Float](repeating: 7, count: logits.count)
        let sum = CrossEntropyOp.forwardBackward(G.floats(logits), rows: rows, vocabulary: vocabulary,
                                                 targets: targets, scale: Float(1 / counted), dLogits: &dLogits)
        XCTAssertEqual(sum / counted, reference([logits]), accuracy: 1e-5)
        XCTAssertEqual(Array(dLogits[vocabulary..<2 * vocabulary]), [Float](repeating: 0, count: vocabulary))
        G.assertClose(dLogits, G.numeric(reference, at: [logits], input: 0), "dLogits")
    }

    /// A target 120 below the row's largest logit has a float32 probability of 0; its loss is still ~120.
    func testCrossEntropyOfATargetWhoseProbabilityUnderflowsIsFinite() {
        let vocabulary = 40
        var logits = [Float](repeating: 0, count: vocabulary)
        logits[3] = 120
        for withGradient in [false, true] {
            var dLogits = [Float](repeating: 0, count: vocabulary)
            let loss = withGradient
                ? CrossEntropyOp.forwardBackward(logits, rows: 1, vocabulary: vocabulary, targets: [5], scale: 1,
                                                 dLogits: &dLogits)
                : CrossEntropyOp.forwardBackward(logits, rows: 1, vocabulary: vocabulary, targets: [5], scale: 1,
                                                 dLogits: nil)
            XCTAssertEqual(loss, 120 + log(1 + 39 * exp(-120.0)), accuracy: 1e-9)
        }
    }

    func testRotaryBackwardIsTheInverseRotationAndMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 7)
        let (rows, heads, headDim) = (3, 2, 8)
        let width = heads * headDim
        let positions: [Int32] = [0, 5, 17]
        let x = G.rounded(G.random(rows * width, &rng)), r = G.rounded(G.random(rows * width, &rng))
        let rotary = RotaryEmbedding(headDim: headDim, theta: 10000)
        let frequencies = (0..<headDim / 2).map { Double(1 / powf(10000, Float(2 * $0) / Float(headDim))) }
        func reference(_ v: [[Double]]) -> Double {
            var loss = 0.0
            for row in 0..<rows {
                for head in 0..<heads {
                    let base = row * width + head * headDim
                    for i in 0..<headDim / 2 {
                        let angle = Double(positions[row]) * frequencies[i]
                        let (a, b) = (v[0][base + i], v[0][base + i + headDim / 2])
                        loss += (a * cos(angle) - b * sin(angle)) * r[base + i]
                        loss += (b * cos(angle) + a * sin(angle)) * r[base + i + headDim / 2]
                    }
                }
            }
            return loss
        }
        var y = G.floats(x)
        RotaryOp.forward(rotary, &y, rows: rows, rowStride: width, heads: heads, positions: positions)
        XCTAssertEqual(Double(zip(y, G.floats(r)).map { $0 * $1 }.reduce(0, +)), reference([x]), accuracy: 1e-4)
        var gradient = G.floats(r)
        RotaryOp.backward(rotary, &gradient, rows: rows, rowStride: width, heads: heads, positions: positions)
        G.assertClose(gradient, G.numeric(reference, at: [x], input: 0), "dx")
    }

    /// Large enough (512 x 128) that the weight gradients are summed over rows on several threads; checked
    /// against the float64 closed forms that the small finite-difference tests above validate.
    func testNormBackwardsSplitAcrossThreadsMatchTheFloat64ClosedForm() {
        var rng = SeededGenerator(seed: 8)
        let (rows, dim) = (512, 128)
        let x = G.rounded(G.random(rows * dim, &rng, scale: 2)), w = G.rounded(G.random(dim, &rng))
        let b = G.rounded(G.random(dim, &rng)), dy = G.rounded(G.random(rows * dim, &rng))
        var expectedDx = [Double](repeating: 0, count: rows * dim), expectedDw = [Double](repeating: 0, count: dim)
        var expectedDb = [Double](repeating: 0, count: dim)
        var rmsDx = [Double](repeating: 0, count: rows * dim), rmsDw = [Double](repeating: 0, count: dim)
        for row in 0..<rows {
            let input = Array(x[row * dim..<(row + 1) * dim]), gradient = Array(dy[row * dim..<(row + 1) * dim])
            let mean = input.reduce(0, +) / Double(dim)
            let rstd = 1 / (input.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim) + 1e-5).squareRoot()
            let xhat = input.map { ($0 - mean) * rstd }
            let g = (0..<dim).map { gradient[$0] * w[$0] }
            let meanG = g.reduce(0, +) / Double(dim), meanGX = zip(g, xhat).map(*).reduce(0, +) / Double(dim)
            let r = 1 / (input.map { $0 * $0 }.reduce(0, +) / Double(dim) + 1e-6).squareRoot()
            let projection = zip(g, input).map(*).reduce(0, +)
            for i in 0..<dim {
                expectedDx[row * dim + i] = rstd * (g[i] - meanG - xhat[i] * meanGX)
                expectedDw[i] += gradient[i] * xhat[i]
                expectedDb[i] += gradient[i]
                rmsDx[row * dim + i] = r * g[i] - input[i] * r * r * r * projection / Double(dim)
                rmsDw[i] += gradient[i] * input[i] * r
            }
        }
        let (xf, wf, bf, dyf) = (G.floats(x), G.floats(w), G.floats(b), G.floats(dy))
        var y = [Float](repeating: 0, count: x.count)
        var mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
        LayerNormOp.forward(xf, rows: rows, dim: dim, weight: wf, bias: bf, epsilon: 1e-5, into: &y, mean: &mean,
                            inverseStd: &rstd)
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: dim)
        var db = [Float](repeating: 0, count: dim)
        LayerNormOp.backward(dyf, x: xf, rows: rows, dim: dim, weight: wf, mean: mean, inverseStd: rstd,
                             dx: &dx, dWeight: &dw, dBias: &db)
        func assertMatches(_ actual: [Float], _ expected: [Double], _ name: String) {
            let scale = expected.map(abs).max()!
            let error = zip(actual, expected).map { abs(Double($0) - $1) }.max()!
            XCTAssertLessThan(error / scale, 1e-5, name)
        }
        assertMatches(dx, expectedDx, "LayerNorm dx")
        assertMatches(dw, expectedDw, "LayerNorm dW")
        assertMatches(db, expectedDb, "LayerNorm db")
        var inverse = [Float](repeating: 0, count: rows)
        RMSNormOp.forward(xf, rows: rows, dim: dim, weight: wf, epsilon: 1e-6, into: &y, inverseRMS: &inverse)
        var rmsDxActual = [Float](repeating: 0, count: x.count), rmsDwActual = [Float](repeating: 0, count: dim)
        RMSNormOp.backward(dyf, x: xf, rows: rows, dim: dim, weight: wf, inverseRMS: inverse, dx: &rmsDxActual,
                           dWeight: &rmsDwActual)
        assertMatches(rmsDxActual, rmsDx, "RMSNorm dx")
        assertMatches(rmsDwActual, rmsDw, "RMSNorm dW")
    }
}
