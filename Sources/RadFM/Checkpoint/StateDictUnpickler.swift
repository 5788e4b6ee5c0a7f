/// Runs the pickle of a torch.save state_dict, understanding only the opcodes and globals such a pickle uses.
///
/// Unpickling is code execution in Python; here the only callables are an allow-list of constructors that build
/// data (`OrderedDict`, `_rebuild_tensor_v2`, `_rebuild_parameter`) and the typed-storage classes that appear in
/// persistent ids. Any other global is rejected by name before anything is built from it.
struct StateDictUnpickler {
    private static let allowedCallables: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
    ]

    private let bytes: UnsafeRawBufferPointer
    private let file: String
    private var position = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// The state_dict's tensors in pickle order.
    static func tensors(
        pickle: UnsafeRawBufferPointer, file: String
    ) throws -> [(key: String, tensor: TorchTensorReference)] {
        var machine = StateDictUnpickler(bytes: pickle, file: file)
        let root = try machine.run()
        guard case .dict(let dict) = root else {
            throw machine.malformed("the pickle holds a \(root.kindName), not a state_dict")
        }
        return try dict.entries.map { entry in
            guard case .string(let key) = entry.key else {
                throw machine.malformed("state_dict has a \(entry.key.kindName) key; keys must be strings")
            }
            guard case .tensor(let tensor) = entry.value else {
                throw CheckpointError(
                    .unsupported, file: file, key: key,
                    detail: "value is a \(entry.value.kindName), not a tensor; only flat state_dicts are supported")
            }
            return (key, tensor)
        }
    }

    private func malformed(_ detail: String) -> CheckpointError {
        CheckpointError(.malformed, file: file, detail: "data.pkl: \(detail)")
    }

    private mutating func run() throws -> PickleValue {
        while true {
            let opcode = try readByte()
            switch opcode {
            case 0x80: _ = try readByte()  // PROTO
            case 0x95: _ = try readBytes(8)  // FRAME: a length hint only
            case UInt8(ascii: "."):  // STOP
                return try pop()
            case UInt8(ascii: "("): marks.append(stack.count)
            case UInt8(ascii: "0"): _ = try pop()
            case UInt8(ascii: "1"): _ = try popMark()
            case UInt8(ascii: "2"): stack.append(try top())
            case UInt8(ascii: "N"): stack.append(.none)
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case UInt8(ascii: "J"): stack.append(.int(Int(Int32(bitPattern: try readLittleEndian(UInt32.self)))))
            case UInt8(ascii: "K"): stack.append(.int(Int(try readByte())))
            case UInt8(ascii: "M"): stack.append(.int(Int(try readLittleEndian(UInt16.self))))
            case 0x8a: stack.append(.int(try readLong(length: Int(try readByte()))))
            case 0x8b: stack.append(.int(try readLong(length: Int(try readLittleEndian(UInt32.self)))))
            case UInt8(ascii: "G"):
                stack.append(.float(Double(bitPattern: UInt64(bigEndian: try readRaw(UInt64.self)))))
            case UInt8(ascii: "X"), UInt8(ascii: "T"), UInt8(ascii: "B"):
                stack.append(.string(try readString(length: Int(try readLittleEndian(UInt32.self)))))
            case 0x8c, UInt8(ascii: "U"), UInt8(ascii: "C"):
                stack.append(.string(try readString(length: Int(try readByte()))))
            case 0x8d, 0x8e:
                stack.append(.string(try readString(length: try checkedLength(try readLittleEndian(UInt64.self)))))
            case UInt8(ascii: ")"): stack.append(.tuple([]))
            case UInt8(ascii: "t"): stack.append(.tuple(try popMark()))
            case 0x85: stack.append(.tuple([try pop()]))
            case 0x86:
                let second = try pop()
                stack.append(.tuple([try pop(), second]))
            case 0x87:
                let third = try pop()
                let second = try pop()
                stack.append(.tuple([try pop(), second, third]))
            case UInt8(ascii: "]"): stack.append(.list(PickleList()))
            case UInt8(ascii: "l"):
                let list = PickleList()
                list.items = try popMark()
                stack.append(.list(list))
            case UInt8(ascii: "a"):
                let item = try pop()
                try list(at: try top()).items.append(item)
            case UInt8(ascii: "e"):
                let items = try popMark()
                try list(at: try top()).items.append(contentsOf: items)
            case UInt8(ascii: "}"): stack.append(.dict(PickleDict()))
            case UInt8(ascii: "d"):
                let dict = PickleDict()
                try setItems(try popMark(), in: dict)
                stack.append(.dict(dict))
            case UInt8(ascii: "s"):
                let value = try pop()
                let key = try pop()
                try dict(at: try top()).entries.append((key, value))
            case UInt8(ascii: "u"):
                let items = try popMark()
                try setItems(items, in: try dict(at: try top()))
            case UInt8(ascii: "q"): memo[Int(try readByte())] = try top()
            case UInt8(ascii: "r"): memo[Int(try readLittleEndian(UInt32.self))] = try top()
            case 0x94: memo[memo.count] = try top()
            case UInt8(ascii: "h"): stack.append(try memoized(Int(try readByte())))
            case UInt8(ascii: "j"): stack.append(try memoized(Int(try readLittleEndian(UInt32.self))))
            case UInt8(ascii: "c"):
                let module = try readLine()
                let name = try readLine()
                stack.append(try global(module: module, name: name))
            case 0x93:
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw malformed("STACK_GLOBAL operands are not strings")
                }
                stack.append(try global(module: module, name: name))
            case UInt8(ascii: "Q"): stack.append(try persistentLoad(try pop()))
            case UInt8(ascii: "R"), 0x81:
                let arguments = try pop()
                let callable = try pop()
                stack.append(try call(callable, arguments))
            case UInt8(ascii: "b"):
                // BUILD sets instance state; on a state_dict it is the `_metadata` attribute (module versions),
                // which inference does not need.
                _ = try pop()
                guard case .dict = try top() else { throw malformed("BUILD applied to a \(try top().kindName)") }
            default:
                throw CheckpointError(
                    .unsupported, file: file,
                    detail: "data.pkl: pickle opcode 0x\(String(opcode, radix: 16)) at byte \(position - 1) "
                        + "is not used by torch.save state_dicts")
            }
        }
    }

    // MARK: Globals and calls

    private func global(module: String, name: String) throws -> PickleValue {
        let qualified = "\(module).\(name)"
        if Self.allowedCallables.contains(qualified) { return .global(qualified) }
        if module == "torch", TensorDType(torchStorageClass: name) != nil { return .global(qualified) }
        throw CheckpointError(
            .unsupported, file: file,
            detail: "data.pkl references the Python global '\(qualified)', which a state_dict of tensors never "
                + "needs; refusing to load it")
    }

    private func call(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .global(let name) = callable, case .tuple(let args) = arguments else {
            throw malformed("REDUCE of a \(callable.kindName) with \(arguments.kindName) arguments")
        }
        switch name {
        case "collections.OrderedDict":
            guard args.isEmpty else { throw malformed("OrderedDict called with arguments") }
            return .dict(PickleDict())
        case "torch._utils._rebuild_tensor_v2":
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard args.count >= 4, case .storage(let storage) = args[0], case .int(let offset) = args[1] else {
                throw malformed("_rebuild_tensor_v2 called with unexpected arguments")
            }
            return .tensor(
                TorchTensorReference(
                    storage: storage, offset: offset, shape: try integers(args[2], what: "size"),
                    strides: try integers(args[3], what: "stride")))
        case "torch._utils._rebuild_parameter":
            // (data, requires_grad, backward_hooks): a Parameter is its data at inference.
            guard let data = args.first, case .tensor = data else {
                throw malformed("_rebuild_parameter called without a tensor")
            }
            return data
        default:
            throw CheckpointError(.unsupported, file: file, detail: "data.pkl calls '\(name)', which is not callable")
        }
    }

    /// torch.save's persistent id for a storage: `('storage', storage_type, key, location, numel)`.
    private func persistentLoad(_ id: PickleValue) throws -> PickleValue {
        guard case .tuple(let fields) = id, fields.count == 5, case .string("storage") = fields[0],
            case .global(let typeName) = fields[1], case .string(let key) = fields[2],
            case .int(let count) = fields[4], count >= 0
        else {
            throw malformed("persistent id is not a ('storage', type, key, location, numel) tuple")
        }
        let className = String(typeName.split(separator: ".").last ?? "")
        guard let dtype = TensorDType(torchStorageClass: className) else {
            throw CheckpointError(.unsupported, file: file, detail: "data.pkl uses storage type '\(typeName)'")
        }
        return .storage(TorchStorageReference(dtype: dtype, key: key, elementCount: count))
    }

    private func integers(_ value: PickleValue, what: String) throws -> [Int] {
        guard case .tuple(let items) = value else { throw malformed("tensor \(what) is a \(value.kindName)") }
        return try items.map {
            guard case .int(let number) = $0 else { throw malformed("tensor \(what) holds a \($0.kindName)") }
            return number
        }
    }

    // MARK: Stack

    private mutating func pop() throws -> PickleValue {
        if let mark = marks.last, stack.count <= mark { throw malformed("stack underflow past a MARK") }
        guard let value = stack.popLast() else { throw malformed("stack underflow") }
        return value
    }

    private func top() throws -> PickleValue {
        guard let value = stack.last else { throw malformed("stack underflow") }
        return value
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw malformed("no MARK on the stack") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private func memoized(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw malformed("memo slot \(index) is empty") }
        return value
    }

    private func list(at value: PickleValue) throws -> PickleList {
        guard case .list(let list) = value else { throw malformed("APPEND to a \(value.kindName)") }
        return list
    }

    private func dict(at value: PickleValue) throws -> PickleDict {
        guard case .dict(let dict) = value else { throw malformed("SETITEM on a \(value.kindName)") }
        return dict
    }

    private func setItems(_ items: [PickleValue], in dict: PickleDict) throws {
        guard items.count % 2 == 0 else { throw malformed("SETITEMS with an odd number of items") }
        for index in stride(from: 0, to: items.count, by: 2) {
            dict.entries.append((items[index], items[index + 1]))
        }
    }

    // MARK: Reading the byte stream

    private mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw malformed("pickle ends before STOP (truncated)") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func readBytes(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - position else {
            throw malformed("pickle ends inside an operand (truncated)")
        }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    private mutating func readRaw<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        try readBytes(MemoryLayout<T>.size).loadUnaligned(as: T.self)
    }

    private mutating func readLittleEndian<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        T(littleEndian: try readRaw(type))
    }

    private func checkedLength(_ length: UInt64) throws -> Int {
        guard length <= UInt64(bytes.count) else { throw malformed("operand length \(length) exceeds the pickle") }
        return Int(length)
    }

    private mutating func readString(length: Int) throws -> String {
        String(decoding: try readBytes(length), as: UTF8.self)
    }

    /// GLOBAL's operands are newline-terminated.
    private mutating func readLine() throws -> String {
        let start = position
        while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
        guard position < bytes.count else { throw malformed("pickle ends inside a GLOBAL (truncated)") }
        defer { position += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    /// LONG1/LONG4: little-endian two's complement of the given length; state_dict numbers fit in 64 bits.
    private mutating func readLong(length: Int) throws -> Int {
        guard length <= 8 else { throw malformed("integer of \(length) bytes does not fit 64 bits") }
        let digits = try readBytes(length)
        var value: UInt64 = 0
        for index in 0..<length { value |= UInt64(digits[index]) << (8 * UInt64(index)) }
        if length > 0, length < 8, digits[length - 1] & 0x80 != 0 {
            value |= UInt64.max << (8 * UInt64(length))  // sign-extend
        }
        return Int(Int64(bitPattern: value))
    }
}
