import Tensor

/// One checkpoint tensor the model needs: its key, the shape the architecture expects, and the model
/// buffer it is read into (a whole tensor, or a slice of a fused one).
public struct ParameterBinding {
    /// The checkpoint key. `aliases` are other keys that hold the same tensor in RadFM's state_dict
    /// (PyTorch saves tied weights under every name); any one of them satisfies the binding.
    public let key: String
    public let aliases: [String]
    public let shape: [Int]
    let destination: UnsafeMutablePointer<Float>
    let storage: Tensor

    public var count: Int { shape.reduce(1, *) }
    public var allKeys: [String] { [key] + aliases }

    /// The model memory holding this tensor, for writers (checkpoint export, random initialisation).
    public var values: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: destination, count: count) }
}

/// Collects parameter bindings while layers are constructed, so each layer names its own weights where it
/// declares them and the full key is the path of scopes leading to it (`lang_model.model.layers.3.`...).
public final class ParameterRegistry {
    final class Store { var bindings: [ParameterBinding] = [] }

    let prefix: String
    let store: Store

    public init() {
        prefix = ""
        store = Store()
    }

    private init(prefix: String, store: Store) {
        self.prefix = prefix
        self.store = store
    }

    public var bindings: [ParameterBinding] { store.bindings }

    /// A registry whose keys are prefixed with `name.`.
    public func scope(_ name: String) -> ParameterRegistry {
        ParameterRegistry(prefix: prefix + name + ".", store: store)
    }

    /// A new zeroed tensor bound to the checkpoint key `prefix + name`.
    public func tensor(_ name: String, shape: [Int], aliases: [String] = []) -> Tensor {
        let tensor = Tensor(zeros: shape)
        store.bindings.append(ParameterBinding(
            key: prefix + name, aliases: aliases, shape: shape, destination: tensor.data, storage: tensor))
        return tensor
    }

    /// One tensor made of several checkpoint matrices stacked along the first axis, so a single sgemm
    /// computes all of them (LLaMA's q/k/v projections, gate/up projections). Each part keeps its own key.
    public func stacked(_ parts: [(name: String, shape: [Int])]) -> Tensor {
        let columns = parts[0].shape.dropFirst()
        precondition(parts.allSatisfy { $0.shape.dropFirst() == columns }, "stacked parts differ past axis 0")
        let tensor = Tensor(zeros: [parts.map { $0.shape[0] }.reduce(0, +)] + Array(columns))
        var offset = 0
        for part in parts {
            store.bindings.append(ParameterBinding(
                key: prefix + part.name, aliases: [], shape: part.shape,
                destination: tensor.data + offset, storage: tensor))
            offset += part.shape.reduce(1, *)
        }
        return tensor
    }
}
