import Dispatch
import Foundation

/// Splits work over the machine's cores.
public enum Parallel {
    public static let coreCount = max(ProcessInfo.processInfo.activeProcessorCount, 1)

    /// Runs `body(range)` over contiguous chunks covering `0..<count`, one chunk per core at most.
    /// Chunks of fewer than `minimumChunk` items are not split further, because a dispatch costs
    /// microseconds and small kernels (a decode step's norms) are faster on one thread.
    public static func forEachChunk(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = chunkCount(count, minimumChunk: minimumChunk)
        if chunks == 1 {
            body(0..<count)
            return
        }
        let base = count / chunks
        let extra = count % chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * base + min(chunk, extra)
            let end = start + base + (chunk < extra ? 1 : 0)
            body(start..<end)
        }
    }

    /// How many chunks `forEachChunk` splits `count` items into.
    public static func chunkCount(_ count: Int, minimumChunk: Int = 1) -> Int {
        min(coreCount, max(1, count / max(minimumChunk, 1)))
    }

    /// Runs `body(index)` for every index, spread over the cores.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        forEachChunk(count) { range in
            for index in range { body(index) }
        }
    }
}
