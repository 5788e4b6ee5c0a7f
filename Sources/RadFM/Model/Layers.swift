import Tensor

/// PyTorch `nn.Linear`: weight [out, in] as stored in the checkpoint (rows padded apart in the inference
/// layout, see `WeightLayout`), optional bias.
struct Linear {
    let weight: Tensor
    let bias: Tensor?
    let inFeatures: Int
    let outFeatures: Int

    init(_ registry: ParameterRegistry, _ name: String, in inFeatures: Int, out outFeatures: Int, bias: Bool) {
        let scope = registry.scope(name)
        self.weight = scope.projection("weight", shape: [outFeatures, inFeatures])
        self.bias = bias ? scope.tensor("bias", shape: [outFeatures]) : nil
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    /// `output = input W^T + b`, or `output += input W^T + b` when `accumulate` (residual connections).
    func callAsFunction(
        _ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        Matmul.linear(input, rows: rows, inFeatures: inFeatures, weight: weight.data, weightStride: weight.columns,
                      outFeatures: outFeatures, bias: bias?.data, accumulate: accumulate, into: output)
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        let output = Tensor(zeros: [input.rows, outFeatures])
        self(input.data, rows: input.rows, into: output.data)
        return output
    }
}

/// PyTorch `nn.LayerNorm` with its default epsilon.
struct LayerNorm {
    static let epsilon: Float = 1e-5
    let weight: Tensor
    let bias: Tensor
    let dim: Int

    init(_ registry: ParameterRegistry, _ name: String, dim: Int) {
        let scope = registry.scope(name)
        weight = scope.tensor("weight", shape: [dim])
        bias = scope.tensor("bias", shape: [dim])
        self.dim = dim
    }

    func callAsFunction(_ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        Normalization.layerNorm(input, rows: rows, dim: dim, weight: weight.data, bias: bias.data,
                                epsilon: Self.epsilon, into: output)
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        let output = Tensor(zeros: input.shape)
        self(input.data, rows: input.rows, into: output.data)
        return output
    }
}
