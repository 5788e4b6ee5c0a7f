import Tensor

/// How a model lays out its parameters in memory.
public enum WeightLayout: Sendable {
    /// Every parameter one dense row-major block, as checkpoints store them: what the trainer (whose
    /// optimiser walks `values`) and checkpoint writers need.
    case contiguous
    /// Projection matrices (the LLM's, and every `Linear` of the vision encoder, perceiver and projection)
    /// keep their rows `BroadcastLinear.paddedRowStride` floats apart, so that decode batches, short
    /// prompts, the perceiver's latents and a 4-slice image's 256 tokens run the broadcast kernel;
    /// everything else is dense.
    case inference
}

/// One checkpoint tensor the model needs: its key, the shape the architecture expects, and the model
/// buffer it is read into (a whole tensor, or a slice of a fused one).
public struct ParameterBinding {
    /// The checkpoint key. `aliases` are other keys that hold the same tensor in RadFM's state_dict
    /// (PyTorch saves tied weights under every name); any one of them satisfies the binding.
    public let key: String
    public let aliases: [String]
    public let shape: [Int]
    /// Floats from the start of one row (last axis) to the next in model memory: the row length for dense
    /// tensors, more for padded projections.
    public let rowStride: Int
    let destination: UnsafeMutablePointer<Float>
    let storage: Tensor

    public var count: Int { shape.reduce(1, *) }
    public var allKeys: [String] { [key] + aliases }
    var rowLength: Int { shape.last ?? 1 }
    var rowCount: Int { rowLength == 0 ? 0 : count / rowLength }
    public var isContiguous: Bool { rowStride == rowLength }

    /// The model memory holding this tensor, for writers (checkpoint export, random initialisation) and
    /// the trainer. Only for contiguous bindings: a padded one has no dense view (see `WeightLayout`).
    public var values: UnsafeMutableBufferPointer<Float> {
        precondition(isContiguous, "\(key) is stored with padded rows; build the model with WeightLayout.contiguous")
        return UnsafeMutableBufferPointer(start: destination, count: count)
    }

    /// Gives this tensor's whole pages back to the kernel once a writer has stored it (they read as zeros
    /// afterwards), so that filling and writing a model tensor by tensor never holds all of it.
    public func releasePages() {
        storage.releasePages(from: destination, count: span.count)
    }

    /// Every float from the first row's start to the last row's end, pads between rows included (pads are
    /// never read by the kernels, so filling them is harmless): for bulk initialisation of any layout.
    public var span: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: destination, count: rowCount == 0 ? 0 : (rowCount - 1) * rowStride + rowLength)
    }
}

/// Collects parameter bindings while layers are constructed, so each layer names its own weights where it
/// declares them and the full key is the path of scopes leading to it (`lang_model.model.layers.3.`...).
public final class ParameterRegistry {
    final class Store { var bindings: [ParameterBinding] = [] }

    let prefix: String
    let store: Store
    public let layout: WeightLayout

    public init(layout: WeightLayout = .contiguous) {
        prefix = ""
        store = Store()
        self.layout = layout
    }

    private init(prefix: String, store: Store, layout: WeightLayout) {
        self.prefix = prefix
        self.store = store
        self.layout = layout
    }

    public var bindings: [ParameterBinding] { store.bindings }

    /// A registry whose keys are prefixed with `name.`.
    public func scope(_ name: String) -> ParameterRegistry {
        ParameterRegistry(prefix: prefix + name + ".", store: store, layout: layout)
    }

    /// A new zeroed tensor bound to the checkpoint key `prefix + name`.
    public func tensor(_ name: String, shape: [Int], aliases: [String] = []) -> Tensor {
        let tensor = Tensor(zeros: shape, hugePages: true)
        store.bindings.append(ParameterBinding(
            key: prefix + name, aliases: aliases, shape: shape, rowStride: shape.last ?? 1, destination: tensor.data,
            storage: tensor))
        return tensor
    }

    /// A projection weight [out, in] that is multiplied with `Matmul.linear`: with the inference
    /// layout its rows are padded apart, and the returned tensor is [out, stride] (pass its `columns` as
    /// the weight stride).
    public func projection(_ name: String, shape: [Int]) -> Tensor {
        stackedProjections([(name, shape)])
    }

    /// One [out, in] projection made of several checkpoint matrices stacked along the first axis, so a
    /// single product computes all of them (LLaMA's q/k/v projections, gate/up projections). Each part keeps
    /// its own key. Rows are padded apart as `projection` does.
    public func stackedProjections(_ parts: [(name: String, shape: [Int])]) -> Tensor {
        precondition(parts.allSatisfy { $0.shape.count == 2 && $0.shape[1] == parts[0].shape[1] },
                     "stacked projections must be matrices with one input width")
        let inFeatures = parts[0].shape[1]
        let stride = layout == .inference ? BroadcastLinear.paddedRowStride(for: inFeatures) : inFeatures
        let tensor = Tensor(zeros: [parts.map { $0.shape[0] }.reduce(0, +), stride], hugePages: true)
        var row = 0
        for part in parts {
            store.bindings.append(ParameterBinding(
                key: prefix + part.name, aliases: [], shape: part.shape, rowStride: stride,
                destination: tensor.row(row), storage: tensor))
            row += part.shape[0]
        }
        return tensor
    }
}
