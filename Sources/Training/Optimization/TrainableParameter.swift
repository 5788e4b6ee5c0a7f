import RadFM

/// One parameter tensor under training: the model's own memory plus, unless frozen, a gradient buffer and
/// AdamW's two moment buffers, all flat float32 of the tensor's element count.
public final class TrainableParameter {
    public let key: String
    /// Other checkpoint names of the same tensor (RadFM's tied token embedding); checkpoints repeat it
    /// under each so PyTorch's strict `load_state_dict` finds every name it expects.
    public let aliases: [String]
    public let shape: [Int]
    /// The model memory (a `ParameterBinding.values` buffer); updated in place by the optimizer.
    public let values: UnsafeMutableBufferPointer<Float>
    /// Nil for frozen parameters: backward passes skip their weight gradients entirely.
    public let gradient: UnsafeMutableBufferPointer<Float>?
    let firstMoment: UnsafeMutableBufferPointer<Float>?
    let secondMoment: UnsafeMutableBufferPointer<Float>?

    public var count: Int { values.count }
    public var isFrozen: Bool { gradient == nil }

    init(key: String, aliases: [String] = [], shape: [Int], values: UnsafeMutableBufferPointer<Float>, frozen: Bool) {
        precondition(shape.reduce(1, *) == values.count, "\(key): shape \(shape) for \(values.count) values")
        self.key = key
        self.aliases = aliases
        self.shape = shape
        self.values = values
        func zeroed() -> UnsafeMutableBufferPointer<Float>? {
            guard !frozen else { return nil }
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
            buffer.initialize(repeating: 0)
            return buffer
        }
        gradient = zeroed()
        firstMoment = zeroed()
        secondMoment = zeroed()
    }

    deinit {
        gradient?.deallocate()
        firstMoment?.deallocate()
        secondMoment?.deallocate()
    }
}

/// All parameters of a run, in the model's key order, with the chosen groups frozen by key prefix
/// (staged training: `lang_model.` frozen while vision and perceiver learn).
public final class ParameterSet {
    public let parameters: [TrainableParameter]
    private let byKey: [String: TrainableParameter]
    /// The bindings own the model memory `values` point into; holding them keeps that memory alive for as
    /// long as the set is used, even when the caller drops the model.
    private let bindings: [ParameterBinding]

    public init(bindings: [ParameterBinding], frozenPrefixes: [String] = []) {
        self.bindings = bindings
        self.parameters = bindings.map { binding in
            TrainableParameter(key: binding.key, aliases: binding.aliases, shape: binding.shape, values: binding.values,
                               frozen: frozenPrefixes.contains(where: binding.key.hasPrefix))
        }
        byKey = Dictionary(uniqueKeysWithValues: parameters.map { ($0.key, $0) })
    }

    /// Parameters over caller-owned buffers (which must outlive the set), for optimisation problems
    /// outside RadFMModel.
    public init(tensors: [(key: String, shape: [Int], values: UnsafeMutableBufferPointer<Float>)],
                frozenPrefixes: [String] = []) {
        bindings = []
        self.parameters = tensors.map {
            TrainableParameter(key: $0.key, shape: $0.shape, values: $0.values,
                               frozen: frozenPrefixes.contains(where: $0.key.hasPrefix))
        }
        byKey = Dictionary(uniqueKeysWithValues: parameters.map { ($0.key, $0) })
    }

    public subscript(key: String) -> TrainableParameter? { byKey[key] }

    public var trainable: [TrainableParameter] { parameters.filter { !$0.isFrozen } }

    public var trainableCount: Int { trainable.reduce(0) { $0 + $1.count } }

    public func zeroGradients() {
        for parameter in parameters { parameter.gradient?.update(repeating: 0) }
    }
}
