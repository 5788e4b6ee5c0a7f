import Foundation
import Tensor

/// Model inputs already preprocessed, by the image list of a sample. Epochs revisit the same scans many
/// times (several questions per scan, several passes), and decoding a 2,000-pixel JPEG 2000 radiograph costs
/// far more than the training step it feeds; the result is a pure function of the files, so it is kept.
/// Callers get copies: the graph may reuse its input buffers.
final class PreprocessedImageCache: @unchecked Sendable {
    /// 2 GiB: a thousand 64x64x64 three-channel volumes, or a few dozen at RadFM's 512x512 size.
    static let defaultByteBudget = 2 << 30

    private let byteBudget: Int
    private let lock = NSLock()
    private var entries: [[URL]: [Tensor]] = [:]
    private var bytes = 0

    init(byteBudget: Int) {
        self.byteBudget = byteBudget
    }

    func tensors(for urls: [URL], load: () throws -> [Tensor]) throws -> [Tensor] {
        if let cached = lock.withLock({ entries[urls] }) { return cached.map { $0.copy() } }
        let loaded = try load()
        let size = loaded.reduce(0) { $0 + $1.count * MemoryLayout<Float>.stride }
        lock.withLock {
            // Past the budget new lists are simply not kept: what is cached stays valid, nothing is evicted.
            if entries[urls] == nil, bytes + size <= byteBudget {
                entries[urls] = loaded.map { $0.copy() }
                bytes += size
            }
        }
        return loaded
    }
}
