import Foundation

/// A NumPy .npy array read as float32 (any numeric dtype is converted), C order, with its shape.
public struct NpyArray: Sendable {
    public let shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }
}

/// Reads and writes NumPy's .npy format (versions 1 to 3, little-endian numeric dtypes).
public enum NpyFile {
    /// Refuses arrays claiming more elements than this, before allocating.
    public static let defaultMaxElements = 1 << 31

    public static func read(path: String, maxElements: Int = defaultMaxElements) throws -> NpyArray {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ImageFileError(kind: exists ? .io : .notFound, path: path, message: exists ? "cannot read" : "no such file")
        }
        return try parse(bytes, path: path, maxElements: maxElements)
    }

    static func parse(_ bytes: Data, path: String, maxElements: Int) throws -> NpyArray {
        func fail(_ kind: ImageFileError.Kind, _ message: String) -> ImageFileError {
            ImageFileError(kind: kind, path: path, message: message)
        }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes.prefix(6)) == magic else { throw fail(.unsupportedFormat, "not a .npy file") }
        let major = bytes[bytes.startIndex + 6]
        let headerStart: Int, headerLength: Int
        if major == 1 {
            headerLength = Int(bytes[bytes.startIndex + 8]) | Int(bytes[bytes.startIndex + 9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw fail(.truncated, "header ends early") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[bytes.startIndex + 8 + $1]) << (8 * $1) }
            headerStart = 12
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(data: bytes[(bytes.startIndex + headerStart)..<(bytes.startIndex + headerStart + headerLength)],
                                  encoding: major >= 3 ? .utf8 : .isoLatin1)
        else { throw fail(.truncated, "header ends early") }

        guard let descr = field("descr", in: header) else { throw fail(.corrupt, "header has no descr") }
        guard field("fortran_order", in: header) == "False" else { throw fail(.unsupportedFormat, "Fortran-ordered arrays are not supported") }
        guard let shapeText = field("shape", in: header) else { throw fail(.corrupt, "header has no shape") }
        let dims = shapeText.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        var elements = 1
        for dim in dims {
            guard let value = Int(dim), value >= 0 else { throw fail(.corrupt, "bad shape (\(shapeText))") }
            shape.append(value)
            let (product, overflow) = elements.multipliedReportingOverflow(by: value)
            guard !overflow, product <= maxElements else { throw fail(.limitExceeded, "shape (\(shapeText)) exceeds \(maxElements) elements") }
            elements = product
        }
        guard let type = NpyDType(descr: descr) else { throw fail(.unsupportedFormat, "dtype \(descr) is not supported") }
        let payloadStart = bytes.startIndex + headerStart + headerLength
        guard bytes.count - headerStart - headerLength >= elements * type.size else {
            throw fail(.truncated, "data holds \(bytes.count - headerStart - headerLength) bytes, shape needs \(elements * type.size)")
        }
        let data = bytes.withUnsafeBytes { raw in
            type.convert(UnsafeRawBufferPointer(rebasing: raw[(payloadStart - bytes.startIndex)...]), count: elements)
        }
        return NpyArray(shape: shape, data: data)
    }

    /// Writes float32 data as a version 1 .npy file.
    public static func write(_ array: NpyArray, to path: String) throws {
        let shapeText = array.shape.count == 1 ? "(\(array.shape[0]),)" : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // The data starts on a 64-byte boundary, as NumPy writes it.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var file = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let length = UInt16(header.utf8.count)
        file.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
        file.append(contentsOf: Array(header.utf8))
        array.data.withUnsafeBytes { file.append(contentsOf: $0) }
        do {
            try file.write(to: URL(fileURLWithPath: path))
        } catch {
            throw ImageFileError(kind: .io, path: path, message: "cannot write: \(error.localizedDescription)")
        }
    }

    /// The raw text of `'key': value` in the header dictionary (tuple parentheses and quotes stripped).
    private static func field(_ key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'") else { return nil }
        var rest = header[keyRange.upperBound...].drop { $0 == " " || $0 == ":" }
        if rest.first == "(" {
            rest = rest.dropFirst()
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[..<close])
        }
        if rest.first == "'" {
            rest = rest.dropFirst()
            guard let close = rest.firstIndex(of: "'") else { return nil }
            return String(rest[..<close])
        }
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return rest[..<end].trimmingCharacters(in: .whitespaces)
    }
}

/// The little-endian numeric dtypes a .npy file may hold.
private enum NpyDType {
    case float32, float64, int8, uint8, int16, uint16, int32, uint32, int64, uint64, bool

    init?(descr: String) {
        switch descr {
        case "<f4", "=f4": self = .float32
        case "<f8", "=f8": self = .float64
        case "|i1", "<i1": self = .int8
        case "|u1", "<u1": self = .uint8
        case "|b1": self = .bool
        case "<i2", "=i2": self = .int16
        case "<u2", "=u2": self = .uint16
        case "<i4", "=i4": self = .int32
        case "<u4", "=u4": self = .uint32
        case "<i8", "=i8": self = .int64
        case "<u8", "=u8": self = .uint64
        default: return nil
        }
    }

    var size: Int {
        switch self {
        case .int8, .uint8, .bool: 1
        case .int16, .uint16: 2
        case .float32, .int32, .uint32: 4
        case .float64, .int64, .uint64: 8
        }
    }

    func convert(_ raw: UnsafeRawBufferPointer, count: Int) -> [Float] {
        func widen<T>(_: T.Type, _ transform: (T) -> Float) -> [Float] {
            [Float](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count { out[i] = transform(raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self)) }
                initialized = count
            }
        }
        switch self {
        case .float32:
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(count * 4)]))
                initialized = count
            }
        case .float64: return widen(Double.self) { Float($0) }
        case .int8: return widen(Int8.self) { Float($0) }
        case .uint8, .bool: return widen(UInt8.self) { Float($0) }
        case .int16: return widen(Int16.self) { Float($0) }
        case .uint16: return widen(UInt16.self) { Float($0) }
        case .int32: return widen(Int32.self) { Float($0) }
        case .uint32: return widen(UInt32.self) { Float($0) }
        case .int64: return widen(Int64.self) { Float($0) }
        case .uint64: return widen(UInt64.self) { Float($0) }
        }
    }
}
