import Foundation

/// Runs independent per-study work (reading a study's headers, decoding its pixels) on at most
/// `width` threads at once and returns the outputs in the items' order. The caller blocks until all
/// items are done and works as one of the threads itself, so the service loop stays synchronous and a
/// batch never holds more than `width` studies' decoded pixels in flight.
///
/// Threads rather than the global dispatch pool: the pool sizes itself to the core count, which would
/// silently lower the configured bound, and blocking file reads would starve it.
enum BoundedParallelMap {
    static func map<Item, Output>(_ items: [Item], width: Int, _ body: @escaping (Item) -> Output) -> [Output] {
        let workers = min(max(1, width), items.count)
        guard workers > 1 else { return items.map(body) }
        let outputs = UnsafeMutablePointer<Output>.allocate(capacity: items.count)
        defer { outputs.deallocate() }
        let cursor = WorkCursor(count: items.count)
        let work = {
            while let index = cursor.claim() {
                (outputs + index).initialize(to: body(items[index]))
            }
        }
        let finished = DispatchGroup()
        for _ in 1..<workers {
            finished.enter()
            let thread = Thread {
                work()
                finished.leave()
            }
            thread.start()
        }
        work()
        finished.wait()
        // Every slot was initialised exactly once, by the thread that claimed its index.
        let result = Array(UnsafeBufferPointer(start: outputs, count: items.count))
        outputs.deinitialize(count: items.count)
        return result
    }
}

/// Hands out item indices to worker threads, each exactly once.
private final class WorkCursor: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int

    init(count: Int) { self.count = count }

    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }
}
