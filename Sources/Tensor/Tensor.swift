import Glibc

/// A dense, row-major float32 array that owns its storage.
///
/// Storage is a raw allocation rather than `[Float]` so hot loops and BLAS calls work on stable pointers
/// without copy-on-write checks or bounds checks, and so checkpoints can be read straight into it.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>

    /// Storage starts on a cache-line boundary. malloc's 16-byte alignment puts every 64-byte vector load
    /// of a row across two cache lines, which costs the AVX-512 decode kernel a third of its speed.
    public static let alignment = 64

    /// Size of a transparent huge page on x86-64 and the usual arm64 kernels.
    static let hugePageBytes = 2 << 20

    /// Size of an ordinary page, the unit of mappings and of `releasePages`.
    static let pageBytes = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Bytes of the anonymous mapping behind `data`, or 0 when `data` came from the allocator.
    private let mappedByteCount: Int

    /// A zero-filled tensor. With `hugePages` (for long-lived, large data: model weights) storage of at least
    /// one huge page is its own anonymous mapping, aligned to huge pages and offered to the kernel's
    /// transparent huge pages (Debian's default mode is `madvise`, so without asking every weight sits in
    /// 4 KB pages): a decode step streams every weight, and with 4 KB pages a TLB walk every 4 KB measured 4%
    /// of its time. The kernel zero-fills a mapping on first touch, so such a tensor costs no memory until it
    /// is written: a whole model can be built and then filled one tensor at a time (`releasePages`).
    public init(zeros shape: [Int], hugePages: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        let capacity = max(count, 1)
        let byteCount = capacity * MemoryLayout<Float>.stride
        if hugePages && byteCount >= Tensor.hugePageBytes {
            let (raw, length) = Tensor.mapHugePageAligned(byteCount)
            self.mappedByteCount = length
            self.data = raw.bindMemory(to: Float.self, capacity: capacity)
        } else {
            self.mappedByteCount = 0
            let raw = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: Tensor.alignment)
            self.data = raw.bindMemory(to: Float.self, capacity: capacity)
            data.initialize(repeating: 0, count: capacity)
        }
    }

    /// An anonymous mapping of `byteCount` bytes (rounded up to whole pages) starting on a huge-page boundary:
    /// mapped one huge page longer, then the slack before and after the aligned range is unmapped. The end is
    /// not rounded up to a huge page: the kernel would back that last partial huge page with a whole one.
    private static func mapHugePageAligned(_ byteCount: Int) -> (UnsafeMutableRawPointer, Int) {
        let length = (byteCount + pageBytes - 1) / pageBytes * pageBytes
        let mapped = mmap(nil, length + hugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            fatalError("cannot map \(length) bytes for a tensor: \(String(cString: strerror(errno)))")
        }
        let start = Int(bitPattern: mapped), aligned = (start + hugePageBytes - 1) / hugePageBytes * hugePageBytes
        if aligned > start { munmap(mapped, aligned - start) }
        // The mapping ends at start + length + hugePageBytes; the aligned range at aligned + length.
        let tail = start + hugePageBytes - aligned
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + length), tail) }
        let raw = UnsafeMutableRawPointer(bitPattern: aligned)!
        // Advice only: where the kernel has huge pages off, the tensor keeps ordinary pages.
        _ = madvise(raw, length, MADV_HUGEPAGE)
        return (raw, length)
    }

    /// Gives the whole pages inside `count` floats from `start` (which must lie in this tensor) back to the
    /// kernel; they read as zeros afterwards. For writers that fill and store a model one tensor at a time, so
    /// that memory stays near one tensor instead of the whole model. Partial pages at either end are kept.
    public func releasePages(from start: UnsafeMutablePointer<Float>, count releasedCount: Int) {
        precondition(start >= data && start + releasedCount <= data + max(count, 1), "range outside the tensor")
        let page = Tensor.pageBytes
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let end = Int(bitPattern: start + releasedCount) / page * page
        guard end > first else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first), end - first, MADV_DONTNEED)
    }

    /// A tensor holding `values` in row-major order.
    public convenience init(shape: [Int], values: [Float]) {
        self.init(zeros: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit {
        if mappedByteCount > 0 {
            munmap(UnsafeMutableRawPointer(data), mappedByteCount)
        } else {
            UnsafeMutableRawPointer(data).deallocate()
        }
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }

    /// Size of the last dimension: the row length of a matrix view.
    public var columns: Int { shape.last ?? 1 }

    /// Number of rows when viewed as a [rows, columns] matrix.
    public var rows: Int { shape.isEmpty ? 1 : count / max(columns, 1) }

    /// Pointer to the first element of row `index` of the [rows, columns] view.
    public func row(_ index: Int) -> UnsafeMutablePointer<Float> { data + index * columns }

    public func toArray() -> [Float] { Array(buffer) }

    public func copy() -> Tensor {
        let result = Tensor(zeros: shape)
        result.data.update(from: data, count: count)
        return result
    }
}
