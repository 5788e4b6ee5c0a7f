/// The central directory of a zip file whose entries are stored uncompressed, as torch.save writes them.
///
/// torch.save's archives reach tens of gigabytes, so the zip64 end-of-central-directory record and the zip64
/// extra fields for sizes and offsets are read whenever the 32-bit fields hold their 0xFFFFFFFF escape.
struct ZipArchive {
    struct Entry {
        let name: String
        /// Where the entry's bytes start in the file (after its local header).
        let dataOffset: Int
        let size: Int
    }

    private(set) var entries: [String: Entry] = [:]
    /// Entry names in central-directory order.
    private(set) var names: [String] = []

    private static let endOfCentralDirectorySignature: UInt32 = 0x0605_4b50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    private static let zip64EndSignature: UInt32 = 0x0606_4b50
    private static let centralHeaderSignature: UInt32 = 0x0201_4b50
    private static let localHeaderSignature: UInt32 = 0x0403_4b50
    private static let zip64ExtraTag: UInt16 = 0x0001

    init(file: MappedFile) throws {
        let (directoryOffset, directorySize, entryCount) = try Self.locateCentralDirectory(file)
        let directory = try file.slice(directoryOffset, directorySize, what: "zip central directory")
        var cursor = 0
        for _ in 0..<entryCount {
            guard cursor + 46 <= directory.count,
                directory.littleEndian(UInt32.self, at: cursor) == Self.centralHeaderSignature
            else {
                throw CheckpointError(.malformed, file: file.path, detail: "zip central directory entry is corrupt")
            }
            let method = directory.littleEndian(UInt16.self, at: cursor + 10)
            var compressedSize = Int(directory.littleEndian(UInt32.self, at: cursor + 20))
            var size = Int(directory.littleEndian(UInt32.self, at: cursor + 24))
            let nameLength = Int(directory.littleEndian(UInt16.self, at: cursor + 28))
            let extraLength = Int(directory.littleEndian(UInt16.self, at: cursor + 30))
            let commentLength = Int(directory.littleEndian(UInt16.self, at: cursor + 32))
            var localOffset = Int(directory.littleEndian(UInt32.self, at: cursor + 42))
            guard cursor + 46 + nameLength + extraLength + commentLength <= directory.count else {
                throw CheckpointError(.malformed, file: file.path, detail: "zip central directory entry is truncated")
            }
            let name = String(decoding: directory[(cursor + 46)..<(cursor + 46 + nameLength)], as: UTF8.self)
            let extra = UnsafeRawBufferPointer(
                rebasing: directory[(cursor + 46 + nameLength)..<(cursor + 46 + nameLength + extraLength)])
            try Self.applyZip64Extra(
                extra, size: &size, compressedSize: &compressedSize, localOffset: &localOffset, file: file, entry: name)
            guard method == 0, compressedSize == size else {
                throw CheckpointError(
                    .unsupported, file: file.path,
                    detail: "zip entry '\(name)' is compressed (method \(method)); torch.save stores entries "
                        + "uncompressed and only that layout can be memory-mapped")
            }
            let dataOffset = try Self.dataOffset(localHeaderAt: localOffset, file: file, entry: name)
            _ = try file.slice(dataOffset, size, what: "zip entry '\(name)'")
            entries[name] = Entry(name: name, dataOffset: dataOffset, size: size)
            names.append(name)
            cursor += 46 + nameLength + extraLength + commentLength
        }
    }

    /// Finds the end-of-central-directory record by scanning back over the largest possible trailing comment.
    private static func locateCentralDirectory(_ file: MappedFile) throws -> (offset: Int, size: Int, count: Int) {
        let bytes = file.bytes
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        var position = bytes.count - 22
        while position >= lowest {
            if bytes.littleEndian(UInt32.self, at: position) == endOfCentralDirectorySignature { break }
            position -= 1
        }
        guard position >= lowest else {
            throw CheckpointError(
                .malformed, file: file.path,
                detail: "not a zip archive (no end of central directory record); the file is truncated, corrupt, "
                    + "or in torch's legacy pre-1.6 format, which is not supported")
        }
        var count = Int(bytes.littleEndian(UInt16.self, at: position + 10))
        var size = Int(bytes.littleEndian(UInt32.self, at: position + 12))
        var offset = Int(bytes.littleEndian(UInt32.self, at: position + 16))
        let locator = position - 20
        if locator >= 0, bytes.littleEndian(UInt32.self, at: locator) == zip64LocatorSignature {
            let recordOffset = Int(truncatingIfNeeded: bytes.littleEndian(UInt64.self, at: locator + 8))
            let record = try file.slice(recordOffset, 56, what: "zip64 end of central directory record")
            guard record.littleEndian(UInt32.self, at: 0) == zip64EndSignature else {
                throw CheckpointError(
                    .malformed, file: file.path, detail: "zip64 end of central directory record is corrupt")
            }
            count = Int(truncatingIfNeeded: record.littleEndian(UInt64.self, at: 32))
            size = Int(truncatingIfNeeded: record.littleEndian(UInt64.self, at: 40))
            offset = Int(truncatingIfNeeded: record.littleEndian(UInt64.self, at: 48))
        }
        guard count >= 0 else {
            throw CheckpointError(.malformed, file: file.path, detail: "zip entry count \(count) is corrupt")
        }
        return (offset, size, count)
    }

    /// Replaces the 32-bit fields holding 0xFFFFFFFF with the 64-bit values of the zip64 extra field, which lists
    /// only the escaped ones, in the fixed order size, compressed size, offset.
    private static func applyZip64Extra(
        _ extra: UnsafeRawBufferPointer, size: inout Int, compressedSize: inout Int, localOffset: inout Int,
        file: MappedFile, entry: String
    ) throws {
        let escape = Int(UInt32.max)
        guard size == escape || compressedSize == escape || localOffset == escape else { return }
        var cursor = 0
        while cursor + 4 <= extra.count {
            let tag = extra.littleEndian(UInt16.self, at: cursor)
            let length = Int(extra.littleEndian(UInt16.self, at: cursor + 2))
            if tag == zip64ExtraTag {
                var field = cursor + 4
                let end = field + length
                func next() throws -> Int {
                    guard field + 8 <= end, end <= extra.count else {
                        throw CheckpointError(
                            .malformed, file: file.path, detail: "zip64 extra field of entry '\(entry)' is truncated")
                    }
                    defer { field += 8 }
                    return Int(truncatingIfNeeded: extra.littleEndian(UInt64.self, at: field))
                }
                if size == escape { size = try next() }
                if compressedSize == escape { compressedSize = try next() }
                if localOffset == escape { localOffset = try next() }
                return
            }
            cursor += 4 + length
        }
        throw CheckpointError(
            .malformed, file: file.path, detail: "zip entry '\(entry)' needs a zip64 extra field but has none")
    }

    /// The local header repeats the name and has its own extra field (torch pads it to align tensor data to 64
    /// bytes), so the data offset must be read from it rather than derived from the central directory.
    private static func dataOffset(localHeaderAt offset: Int, file: MappedFile, entry: String) throws -> Int {
        let header = try file.slice(offset, 30, what: "local header of zip entry '\(entry)'")
        guard header.littleEndian(UInt32.self, at: 0) == localHeaderSignature else {
            throw CheckpointError(
                .malformed, file: file.path, detail: "local header of zip entry '\(entry)' is corrupt")
        }
        let nameLength = Int(header.littleEndian(UInt16.self, at: 26))
        let extraLength = Int(header.littleEndian(UInt16.self, at: 28))
        return offset + 30 + nameLength + extraLength
    }

    func bytes(of name: String, in file: MappedFile) throws -> UnsafeRawBufferPointer {
        guard let entry = entries[name] else {
            throw CheckpointError(.malformed, file: file.path, detail: "zip archive has no entry '\(name)'")
        }
        return try file.slice(entry.dataOffset, entry.size, what: "zip entry '\(name)'")
    }
}
