import Foundation
import Prometheus

/// The service's Prometheus metrics. One instance per process; the consumer loop records, the HTTP
/// endpoint renders. Label values are error classes and partitions only, never identifiers of patients.
public final class ServiceMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    let eventsConsumed: Counter
    let jobsCompleted: Counter
    let resultsWritten: Counter
    let duplicateDeliveries: Counter
    let backpressurePauses: Counter
    let batchSize: ValueHistogram
    let inferenceSeconds: ValueHistogram
    let commitSeconds: ValueHistogram
    private let lock = NSLock()
    private var failures: [String: Counter] = [:]
    private var transient: [String: Counter] = [:]
    private var lagGauges: [String: Gauge] = [:]

    public init() {
        eventsConsumed = registry.makeCounter(name: "radfm_events_consumed_total", help: "Study events taken from the topic.")
        jobsCompleted = registry.makeCounter(name: "radfm_jobs_completed_total", help: "Studies processed and committed.")
        resultsWritten = registry.makeCounter(name: "radfm_results_written_total", help: "Result rows written.")
        duplicateDeliveries = registry.makeCounter(name: "radfm_duplicate_deliveries_total",
                                                   help: "Events whose id had already been processed.")
        backpressurePauses = registry.makeCounter(name: "radfm_backpressure_pauses_total",
                                                  help: "Times fetching was paused because a whole next batch waited for the model.")
        batchSize = registry.makeValueHistogram(name: "radfm_batch_size", buckets: [1, 2, 4, 8, 16, 32, 64, 128],
                                                help: "Events per committed batch.")
        inferenceSeconds = registry.makeValueHistogram(name: "radfm_inference_seconds",
                                                       buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300],
                                                       help: "Wall time of one batched model call.")
        commitSeconds = registry.makeValueHistogram(name: "radfm_commit_seconds", buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
                                                    help: "Wall time of one batch's database transaction.")
    }

    func failed(errorClass: String) {
        counter(&failures, key: errorClass, name: "radfm_events_failed_total", label: "reason",
                help: "Events dead-lettered, by error class.").increment()
    }

    func transientFault(component: String) {
        counter(&transient, key: component, name: "radfm_transient_faults_total", label: "component",
                help: "Transient faults retried, by component.").increment()
    }

    /// Messages between the consumer's position and the partition's end.
    func setLag(_ lag: Int64, topic: String, partition: Int32) {
        let key = "\(topic)/\(partition)"
        lock.lock()
        let gauge = lagGauges[key] ?? registry.makeGauge(name: "radfm_consumer_lag", labels: [("topic", topic), ("partition", String(partition))],
                                                        help: "Messages not yet consumed, per assigned partition.")
        lagGauges[key] = gauge
        lock.unlock()
        gauge.set(Double(max(0, lag)))
    }

    func clearLag(topic: String, partition: Int32) {
        lock.lock()
        if let gauge = lagGauges.removeValue(forKey: "\(topic)/\(partition)") { registry.unregisterGauge(gauge) }
        lock.unlock()
    }

    private func counter(_ table: inout [String: Counter], key: String, name: String, label: String, help: String) -> Counter {
        lock.lock()
        defer { lock.unlock() }
        if let existing = table[key] { return existing }
        let made = registry.makeCounter(name: name, labels: [(label, key)], help: help)
        table[key] = made
        return made
    }

    public func render() -> [UInt8] { registry.emitToBuffer() }
}

/// What Kubernetes probes ask: live = the loop is turning; ready = connected and consuming.
public final class ServiceHealth: @unchecked Sendable {
    private let lock = NSLock()
    private var lastLoop = Date()
    private var ready = false
    private var reason = "starting"
    /// A loop that has not turned for this long is stuck (a batch may legitimately take minutes).
    public let stallSeconds: Double

    public init(stallSeconds: Double = 600) { self.stallSeconds = stallSeconds }

    func loopTurned() { lock.lock(); lastLoop = Date(); lock.unlock() }

    func setReady(_ value: Bool, reason: String) {
        lock.lock()
        ready = value
        self.reason = reason
        lock.unlock()
    }

    public var liveness: (ok: Bool, detail: String) {
        lock.lock(); defer { lock.unlock() }
        let idle = Date().timeIntervalSince(lastLoop)
        return idle < stallSeconds ? (true, "ok") : (false, "consumer loop stalled for \(Int(idle)) s")
    }

    public var readiness: (ok: Bool, detail: String) {
        lock.lock(); defer { lock.unlock() }
        return (ready, reason)
    }
}
