import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory. Pages are loaded by the kernel on first touch and can be dropped
/// again under memory pressure, so mapping a 53 GB checkpoint costs address space, not RAM.
final class MappedFile: @unchecked Sendable {
    let path: String
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw CheckpointError(.io, file: path, detail: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw CheckpointError(.io, file: path, detail: "cannot stat: \(String(cString: strerror(errno)))")
        }
        let size = Int(status.st_size)
        guard size > 0 else { throw CheckpointError(.malformed, file: path, detail: "file is empty") }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw CheckpointError(.io, file: path, detail: "cannot map: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress!), bytes.count)
    }

    var count: Int { bytes.count }

    /// The byte range `[offset, offset + length)`, or a `malformed` error naming `what` when it lies outside the
    /// file (the usual sign of truncation).
    func slice(_ offset: Int, _ length: Int, what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else {
            throw CheckpointError(
                .malformed, file: path,
                detail: "\(what()) at bytes \(offset)..<\(offset &+ length) lies beyond the end of the file "
                    + "(\(count) bytes); the file is truncated or corrupt")
        }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }

    /// Tells the kernel the range will not be needed soon, so converting a checkpoint bigger than RAM does not
    /// keep every page it has already copied resident.
    func releasePages(_ offset: Int, _ length: Int) {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / pageSize * pageSize
        let end = min(count, offset + length)
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: bytes.baseAddress! + start), end - start, MADV_DONTNEED)
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always) func littleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
