import Tensor

/// A parameter's model memory and, unless frozen, its gradient buffer.
struct ParameterSlot {
    let values: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>?

    init(_ parameters: ParameterSet, _ key: String, count: Int) throws {
        guard let parameter = parameters[key] else { throw TrainingModelError.missingParameter(key) }
        guard parameter.count == count else {
            throw TrainingModelError.parameterSize(key: key, expected: count, found: parameter.count)
        }
        values = parameter.values.baseAddress!
        gradient = parameter.gradient?.baseAddress
    }
}

/// `nn.Linear` over parameter slots: forward, and a backward that adds into the slots' gradients.
struct LinearLayer {
    let weight: ParameterSlot
    let bias: ParameterSlot?
    let inFeatures: Int
    let outFeatures: Int

    init(_ parameters: ParameterSet, _ prefix: String, in inFeatures: Int, out outFeatures: Int, bias: Bool) throws {
        weight = try ParameterSlot(parameters, prefix + ".weight", count: inFeatures * outFeatures)
        self.bias = bias ? try ParameterSlot(parameters, prefix + ".bias", count: outFeatures) : nil
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    func forward(_ x: UnsafePointer<Float>, rows: Int) -> Tensor {
        let y = Tensor(zeros: [rows, outFeatures])
        LinearOp.forward(x, rows: rows, inFeatures: inFeatures, weight: weight.values, outFeatures: outFeatures,
                         bias: bias?.values, into: y.data)
        return y
    }

    /// Adds this layer's output, for residual connections.
    func forwardAdding(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        Matmul.linear(x, rows: rows, inFeatures: inFeatures, weight: weight.values, outFeatures: outFeatures,
                      bias: bias?.values, accumulate: true, into: y)
    }

    func backward(_ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, dx: UnsafeMutablePointer<Float>?) {
        LinearOp.backward(dy, x: x, rows: rows, inFeatures: inFeatures, weight: weight.values,
                          outFeatures: outFeatures, dx: dx, dWeight: weight.gradient, dBias: bias?.gradient)
    }

    /// The gradient with respect to the input, as a new buffer.
    func backward(_ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int) -> Tensor {
        let dx = Tensor(zeros: [rows, inFeatures])
        backward(dy, x: x, rows: rows, dx: dx.data)
        return dx
    }
}

/// A LayerNorm application: its output with the statistics its backward needs.
struct LayerNormRecord {
    let output: Tensor
    let mean: Tensor
    let inverseStd: Tensor
}

/// `nn.LayerNorm` (eps 1e-5) over parameter slots.
struct LayerNormLayer {
    let weight: ParameterSlot
    let bias: ParameterSlot
    let dim: Int

    init(_ parameters: ParameterSet, _ prefix: String, dim: Int) throws {
        weight = try ParameterSlot(parameters, prefix + ".weight", count: dim)
        bias = try ParameterSlot(parameters, prefix + ".bias", count: dim)
        self.dim = dim
    }

    func forward(_ x: UnsafePointer<Float>, rows: Int) -> LayerNormRecord {
        let record = LayerNormRecord(output: Tensor(zeros: [rows, dim]), mean: Tensor(zeros: [rows]),
                                     inverseStd: Tensor(zeros: [rows]))
        LayerNormOp.forward(x, rows: rows, dim: dim, weight: weight.values, bias: bias.values, epsilon: 1e-5,
                            into: record.output.data, mean: record.mean.data, inverseStd: record.inverseStd.data)
        return record
    }

    /// Adds the input gradient into `dx`.
    func backward(_ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, record: LayerNormRecord,
                  dx: UnsafeMutablePointer<Float>?) {
        LayerNormOp.backward(dy, x: x, rows: rows, dim: dim, weight: weight.values, mean: record.mean.data,
                             inverseStd: record.inverseStd.data, dx: dx, dWeight: weight.gradient, dBias: bias.gradient)
    }
}

/// LLaMA's RMSNorm over a parameter slot.
struct RMSNormLayer {
    let weight: ParameterSlot
    let dim: Int
    let epsilon: Float

    init(_ parameters: ParameterSet, _ key: String, dim: Int, epsilon: Float) throws {
        weight = try ParameterSlot(parameters, key, count: dim)
        self.dim = dim
        self.epsilon = epsilon
    }

    func forward(_ x: UnsafePointer<Float>, rows: Int) -> (output: Tensor, inverseRMS: Tensor) {
        let output = Tensor(zeros: [rows, dim]), inverse = Tensor(zeros: [rows])
        RMSNormOp.forward(x, rows: rows, dim: dim, weight: weight.values, epsilon: epsilon, into: output.data,
                          inverseRMS: inverse.data)
        return (output, inverse)
    }

    func backward(_ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, inverseRMS: Tensor,
                  dx: UnsafeMutablePointer<Float>) {
        RMSNormOp.backward(dy, x: x, rows: rows, dim: dim, weight: weight.values, inverseRMS: inverseRMS.data,
                           dx: dx, dWeight: weight.gradient)
    }
}

public enum TrainingModelError: Error, CustomStringConvertible, Equatable {
    case missingParameter(String)
    case parameterSize(key: String, expected: Int, found: Int)
    case invalidSample(sample: Int, reason: String)

    public var description: String {
        switch self {
        case .missingParameter(let key): return "the model has no parameter \(key)"
        case .parameterSize(let key, let expected, let found):
            return "parameter \(key) has \(found) values, the architecture needs \(expected)"
        case .invalidSample(let sample, let reason): return "batch sample \(sample): \(reason)"
        }
    }
}
