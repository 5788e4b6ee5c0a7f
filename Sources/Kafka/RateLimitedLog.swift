import Foundation
import Logging

/// Logs a recurring condition at most once per interval per key, counting what it held back.
///
/// A broker outage makes librdkafka report the same transport error every few hundred milliseconds
/// for as long as it lasts; one line per interval with a repeat count keeps the log readable.
/// Thread-safe: librdkafka calls the log callback from its own threads.
final class RateLimitedLog: @unchecked Sendable {
    private let logger: Logger
    private let interval: Duration
    private let clock = ContinuousClock()
    private let lock = NSLock()
    private var entries: [String: (lastLogged: ContinuousClock.Instant, suppressed: Int)] = [:]

    init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.interval = interval
    }

    func log(level: Logger.Level, key: String, _ message: @autoclosure () -> String, metadata: Logger.Metadata = [:]) {
        guard let suppressed = admit(key) else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["kafka.repeats_suppressed"] = "\(suppressed)" }
        logger.log(level: level, "\(message())", metadata: metadata)
    }

    /// Nil when `key` was logged within the interval; otherwise how many repeats were held back since.
    private func admit(_ key: String) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        let now = clock.now
        if let entry = entries[key], entry.lastLogged.duration(to: now) < interval {
            entries[key] = (entry.lastLogged, entry.suppressed + 1)
            return nil
        }
        let suppressed = entries[key]?.suppressed ?? 0
        entries[key] = (now, 0)
        return suppressed
    }
}
