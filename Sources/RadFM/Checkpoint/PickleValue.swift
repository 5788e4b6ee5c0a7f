/// The values a torch.save state_dict pickle can build: plain Python data, the allowed globals, and the storages
/// and tensor views that `TorchCheckpointReader` maps onto the archive's data entries.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// An allowed global, "module.name".
    case global(String)
    case storage(TorchStorageReference)
    case tensor(TorchTensorReference)

    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let name): return name
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// Lists and dicts are filled in place after creation (APPEND, SETITEMS on a memoized object), so they need
/// reference semantics.
final class PickleList {
    var items: [PickleValue] = []
}

final class PickleDict {
    var entries: [(key: PickleValue, value: PickleValue)] = []
}

/// A storage named by a persistent id: `('storage', torch.FloatStorage, '0', 'cpu', numel)`.
struct TorchStorageReference {
    let dtype: TensorDType
    /// The archive entry `<prefix>/data/<key>` holding the storage's bytes.
    let key: String
    let elementCount: Int
}

/// A view built by `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`.
struct TorchTensorReference {
    let storage: TorchStorageReference
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}
