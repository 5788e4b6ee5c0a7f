import Foundation
import Training
import XCTest

final class OptimizerTests: XCTestCase {
    /// Owns the buffers behind a ParameterSet for tests that do not build a RadFMModel.
    final class Buffers {
        var storage: [UnsafeMutableBufferPointer<Float>] = []
        func make(_ values: [Float]) -> UnsafeMutableBufferPointer<Float> {
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
            _ = buffer.initialize(from: values)
            storage.append(buffer)
            return buffer
        }
        deinit { storage.forEach { $0.deallocate() } }
    }

    func testAdamWMatchesPyTorchsUpdateOverSeveralSteps() {
        let buffers = Buffers()
        let parameters = ParameterSet(tensors: [(key: "w", shape: [3], values: buffers.make([0.5, -1, 2]))])
        var optimizer = AdamW(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)
        let gradients: [[Float]] = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.1], [-0.3, 0.0, 0.2]]
        let rates: [Float] = [1e-2, 5e-3, 2e-3]
        // Reference: torch.optim.AdamW's single-tensor algorithm written out in float64.
        var p: [Double] = [0.5, -1, 2], m = [Double](repeating: 0, count: 3), v = m
        for (t, (g, lr)) in zip(gradients, rates).enumerated() {
            _ = parameters["w"]!.gradient!.update(fromContentsOf: g)
            optimizer.update(parameters, learningRate: lr)
            let step = Double(t + 1)
            for i in 0..<3 {
                p[i] *= 1 - Double(lr) * 0.1
                m[i] = 0.9 * m[i] + 0.1 * Double(g[i])
                v[i] = 0.95 * v[i] + 0.05 * Double(g[i]) * Double(g[i])
                let denominator = (v[i].squareRoot() / (1 - pow(0.95, step)).squareRoot()) + 1e-8
                p[i] -= Double(lr) / (1 - pow(0.9, step)) * m[i] / denominator
            }
        }
        XCTAssertEqual(optimizer.step, 3)
        for (actual, expected) in zip(parameters["w"]!.values, p) { XCTAssertEqual(Double(actual), expected, accuracy: 1e-6) }
    }

    func testFrozenPrefixesGetNoGradientAndStayUnchanged() {
        let buffers = Buffers()
        let parameters = ParameterSet(tensors: [
            (key: "lang_model.model.norm.weight", shape: [2], values: buffers.make([1, 2])),
            (key: "embedding_layer.fc.bias", shape: [2], values: buffers.make([3, 4])),
        ], frozenPrefixes: ["lang_model."])
        XCTAssertNil(parameters["lang_model.model.norm.weight"]!.gradient)
        XCTAssertEqual(parameters.trainable.map(\.key), ["embedding_layer.fc.bias"])
        parameters["embedding_layer.fc.bias"]!.gradient!.update(repeating: 1)
        var optimizer = AdamW(weightDecay: 0.5)
        optimizer.update(parameters, learningRate: 0.1)
        XCTAssertEqual(Array(parameters["lang_model.model.norm.weight"]!.values), [1, 2])
        XCTAssertNotEqual(Array(parameters["embedding_layer.fc.bias"]!.values), [3, 4])
    }

    func testWarmupThenCosineScheduleAsTransformers() {
        let schedule = LearningRateSchedule(peak: 1e-3, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(schedule.rate(at: 0), 0)
        XCTAssertEqual(schedule.rate(at: 5), 5e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(at: 10), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(at: 60), 5e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(at: 110), 0, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(at: 200), 0, "no second cycle past the end")
    }

    func testGlobalNormClippingScalesAllGradientsTogether() {
        let buffers = Buffers()
        let parameters = ParameterSet(tensors: [
            (key: "a", shape: [1], values: buffers.make([0])), (key: "b", shape: [1], values: buffers.make([0])),
        ])
        parameters["a"]!.gradient![0] = 3
        parameters["b"]!.gradient![0] = 4
        XCTAssertEqual(GradientClipping.clip(parameters, maxNorm: 10), 5, "under the limit: untouched")
        XCTAssertEqual(parameters["a"]!.gradient![0], 3)
        XCTAssertEqual(GradientClipping.clip(parameters, maxNorm: 1), 5, accuracy: 1e-12)
        XCTAssertEqual(parameters["a"]!.gradient![0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(parameters["b"]!.gradient![0], 0.8, accuracy: 1e-6)
        XCTAssertEqual(GradientClipping.globalNorm(parameters), 1, accuracy: 1e-6)
    }
}
