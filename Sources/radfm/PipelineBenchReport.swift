import Foundation
import Pipeline
import Tensor

/// Collects every committed batch and the service's time split as it stood at the first commit, so
/// the steady state (first commit to last) can be told apart from the consumer's start-up (group join,
/// seek, first fetch).
struct PipelineBenchRecorder {
    private(set) var batches: [StudyConsumerService.CommittedBatch] = []
    private(set) var events = 0
    /// The service statistics and engine times when the first batch committed.
    private(set) var atFirstCommit: (statistics: StudyConsumerService.Statistics, engineSeconds: Double, generationSeconds: Double)?
    /// CPU seconds at the first and at the latest commit.
    private(set) var firstCPU: CPUSample?
    private(set) var lastCPU: CPUSample?

    struct CPUSample {
        /// This whole process (all threads, those already ended included).
        let process: Double
        /// Its librdkafka threads.
        let librdkafka: Double
        /// The PostgreSQL backend of the service's session, when it runs on this machine.
        let backend: Double?
    }

    mutating func record(_ batch: StudyConsumerService.CommittedBatch, statistics: StudyConsumerService.Statistics,
                         engineSeconds: Double, generationSeconds: Double, cpu: CPUSample) {
        if atFirstCommit == nil {
            atFirstCommit = (statistics, engineSeconds, generationSeconds)
            firstCPU = cpu
        }
        lastCPU = cpu
        batches.append(batch)
        events += batch.events
    }
}

/// The figures `radfm bench pipeline` prints.
struct PipelineBenchReport {
    let engine: String
    let kind: PipelineBenchCommand.Engine
    let settings: RadFMSettings
    let events: Int
    let runStarted: Date
    let recorder: PipelineBenchRecorder
    let final: StudyConsumerService.Statistics
    let engineSeconds: Double
    let generationSeconds: Double
    let jobs: Int
    let deadLetters: Int
    let auditRows: Int
    let auditIntact: Bool

    func print() {
        let out = { (line: String) in Swift.print(line) }
        out("radfm bench pipeline: engine \(kind.rawValue) (\(engine)), \(events) events, batch size \(settings.batchSize), "
            + "decode concurrency \(settings.decodeConcurrency), tasks \(settings.defaultTasks.map(\.rawValue).joined(separator: "+"))")
        out("OpenBLAS kernel \(OpenBLASRuntime.coreName), products split over \(Parallel.coreCount) cores")
        out("written: \(jobs) jobs, \(final.resultsWritten) results, \(deadLetters) dead letters; audit chain "
            + (auditIntact ? "verified (\(auditRows) rows)" : "BROKEN"))
        guard let first = recorder.batches.first, let last = recorder.batches.last, let start = recorder.atFirstCommit else {
            out("no batch was committed")
            return
        }
        let total = last.committedAt.timeIntervalSince(runStarted)
        out(String(format: "end to end: %.0f events/s (%d events in %.2f s, including consumer start-up)", Double(events) / total, events, total))
        let steadyEvents = recorder.events - first.events
        let wall = last.committedAt.timeIntervalSince(first.committedAt)
        if steadyEvents > 0 && wall > 0 {
            out(String(format: "steady state: %.0f events/s (%d events in %.3f s, first commit to last)", Double(steadyEvents) / wall, steadyEvents, wall))
            let split: [(String, Double)] = [
                ("poll", final.pollSeconds - start.statistics.pollSeconds),
                ("load (event decode, study files, headers)", final.loadSeconds - start.statistics.loadSeconds),
                ("engine", final.inferenceSeconds - start.statistics.inferenceSeconds),
                ("waiting for the batch processed ahead", final.prefetchWaitSeconds - start.statistics.prefetchWaitSeconds),
                ("dead-letter publish", final.deadLetterPublishSeconds - start.statistics.deadLetterPublishSeconds),
                ("commit (PostgreSQL transaction)", final.commitSeconds - start.statistics.commitSeconds),
            ]
            let other = wall - split.reduce(0) { $0 + $1.1 }
            let line = { (name: String, seconds: Double) in
                out("  " + name.padding(toLength: 52, withPad: " ", startingAt: 0)
                    + String(format: " %7.3f ms  (%4.1f%%)", seconds * 1000 / Double(steadyEvents), 100 * seconds / wall))
            }
            out("time split of the steady state on the service loop, ms per event (share):")
            for (name, seconds) in split + [("other (Kafka offset commit, metrics, logging, loop)", other)] { line(name, seconds) }
            let ahead = final.prefetchedBatches - start.statistics.prefetchedBatches
            if ahead > 0 {
                out("processed ahead on another thread, overlapping the commit before (\(ahead) of \(recorder.batches.count - 1) batches):")
                line("load", final.prefetchedLoadSeconds - start.statistics.prefetchedLoadSeconds)
                line("engine", final.prefetchedInferenceSeconds - start.statistics.prefetchedInferenceSeconds)
            }
            if let before = recorder.firstCPU, let after = recorder.lastCPU {
                let perEvent = { (seconds: Double) in seconds * 1000 / Double(steadyEvents) }
                let rdkafka = after.librdkafka - before.librdkafka
                let own = after.process - before.process - rdkafka
                // "Own" threads run the service loop, study loading and the engine (model time included).
                var line = String(format: "CPU per event (steady state): service threads %.3f ms, librdkafka threads %.3f ms", perEvent(own), perEvent(rdkafka))
                if let start = before.backend, let end = after.backend {
                    let backend = end - start
                    line += String(format: ", PostgreSQL backend %.3f ms; service + PostgreSQL alone on %d idle cores: %.0f events/s",
                                   perEvent(backend), Parallel.coreCount, Double(Parallel.coreCount) * Double(steadyEvents) / (own + backend))
                }
                out(line + " (broker not counted)")
            }
            if kind == .tiny {
                let model = engineSeconds - start.engineSeconds
                let generation = generationSeconds - start.generationSeconds
                out(String(format: "model time in the steady state: %.3f s in engine calls (generation %.3f s, pixel decode and preprocessing %.3f s)",
                           model, generation, model - generation))
                out(String(format: "pipeline overhead (wall - engine calls) / wall: %.2f%%; counting pixel decode as overhead: %.2f%%",
                           100 * (wall - model) / wall, 100 * (wall - generation) / wall))
            }
        }
        let commits = recorder.batches.map { $0.commitSeconds * 1000 }.sorted()
        out(String(format: "batches: %d (mean %.1f events), commit p50 %.2f ms, p95 %.2f ms, max %.2f ms",
                   commits.count, Double(recorder.events) / Double(commits.count), Self.percentile(commits, 0.50),
                   Self.percentile(commits, 0.95), commits.last ?? 0))
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }
}
