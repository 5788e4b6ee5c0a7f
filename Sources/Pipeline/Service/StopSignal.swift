import Foundation

/// Set once by a signal handler or a test; read by the consumer loop between polls.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var requestedAt: Date?

    public init() {}

    public func request() {
        lock.lock()
        if requestedAt == nil { requestedAt = Date() }
        lock.unlock()
    }

    public var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return requestedAt != nil }
    public var requestTime: Date? { lock.lock(); defer { lock.unlock() }; return requestedAt }
}

/// Capped exponential backoff for transient faults.
public struct Backoff: Sendable {
    public let initialMilliseconds: Int
    public let maxMilliseconds: Int
    public private(set) var attempt = 0

    public init(initialMilliseconds: Int, maxMilliseconds: Int) {
        self.initialMilliseconds = initialMilliseconds
        self.maxMilliseconds = maxMilliseconds
    }

    public mutating func next() -> Int {
        defer { attempt += 1 }
        let shift = min(attempt, 30)
        return min(maxMilliseconds, initialMilliseconds << shift)
    }

    public mutating func reset() { attempt = 0 }
}
