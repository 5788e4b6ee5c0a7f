/// Walks the protobuf wire format field by field. SentencePiece's `ModelProto` needs only varints, 32-bit
/// floats and length-delimited fields; everything else is skipped by wire type, as protobuf prescribes for
/// unknown fields.
struct ProtobufReader {
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    struct Malformed: Error {
        let detail: String
    }

    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { position >= bytes.count }

    /// The next field's number and wire type.
    mutating func nextField() throws -> (number: Int, wireType: WireType) {
        let key = try varint()
        guard let wireType = WireType(rawValue: key & 7), key >> 3 > 0 else {
            throw Malformed(detail: "invalid field key \(key) at byte \(position)")
        }
        return (Int(key >> 3), wireType)
    }

    mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else { throw Malformed(detail: "varint runs past the end") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw Malformed(detail: "varint longer than 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func float32() throws -> Float {
        guard bytes.count - position >= 4 else { throw Malformed(detail: "float runs past the end") }
        defer { position += 4 }
        return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
    }

    mutating func lengthDelimited() throws -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(bytes.count - position) else {
            throw Malformed(detail: "field of \(length) bytes runs past the end")
        }
        defer { position += Int(length) }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + Int(length))])
    }

    mutating func skip(_ wireType: WireType) throws {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw Malformed(detail: "groups are not used by sentencepiece models")
        }
    }

    private mutating func advance(_ count: Int) throws {
        guard bytes.count - position >= count else { throw Malformed(detail: "field runs past the end") }
        position += count
    }
}
