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

    /// A zero-filled tensor. With `hugePages` (for long-lived, large data: model weights) storage of at least
    /// one huge page is aligned to huge pages and offered to the kernel's transparent huge pages (Debian's
    /// default mode is `madvise`, so without asking every weight sits in 4 KB pages): a decode step
    /// streams every weight, and with 4 KB pages a TLB walk every 4 KB measured 4% of its time.
    public init(zeros shape: [Int], hugePages: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        let capacity = max(count, 1)
        let byteCount = capacity * MemoryLayout<Float>.stride
        let huge = hugePages && byteCount >= Tensor.hugePageBytes
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: byteCount, alignment: huge ? Tensor.hugePageBytes : Tensor.alignment)
        // Advice only: where the kernel has huge pages off, the tensor keeps ordinary pages.
        if huge { _ = madvise(raw, byteCount, MADV_HUGEPAGE) }
        self.data = raw.bindMemory(to: Float.self, capacity: capacity)
        data.initialize(repeating: 0, count: capacity)
    }

    /// A tensor holding `values` in row-major order.
    public convenience init(shape: [Int], values: [Float]) {
        self.init(zeros: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { UnsafeMutableRawPointer(data).deallocate() }

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
