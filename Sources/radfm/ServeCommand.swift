import ArgumentParser
import Dispatch
import Foundation
import Logging
import Pipeline
import Postgres
import Tensor

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Consume study events, run the model in batches, and write results and audit rows to PostgreSQL.",
        discussion: """
            Every `radfm serve` process joins one consumer group; scale out with more partitions and processes.

            Results, audit rows and the next offsets are written in one transaction, so a crash or restart \
            never loses or duplicates a result. Poison events go to the dead-letter topic and table.

            SIGTERM/SIGINT stop fetching and finish the batch in flight within pipeline.shutdown_deadline_seconds.
            """)

    @OptionGroup var options: ServiceOptions

    @Option(name: .long, help: "Model directory (overrides $RADFM_MODEL).")
    var model: String?

    @OptionGroup var roots: StorageRootOptions

    @Option(name: .long, help: "Greedy decoding limit per task (overrides model.max_new_tokens).")
    var maxNewTokens: Int?

    @Option(name: .long, help: "Events per batch (overrides pipeline.batch_size).")
    var batchSize: Int?

    @Option(name: .long, help: "Metrics/probe endpoint host:port, or \"\" for none (overrides observability.listen).")
    var listen: String?

    @Option(name: .long, help: "Stop after this many seconds without new events (for one-shot runs such as the quickstart).")
    var exitWhenIdle: Double?

    func run() throws {
        ProcessLogging.bootstrap()
        var settings = try options.settings()
        let logger = try options.logger("radfm.serve")
        if let model { settings.modelDirectory = model }
        try roots.apply(to: &settings)
        if let listen { settings.observabilityListen = listen }
        if let maxNewTokens {
            guard maxNewTokens > 0 else { throw ValidationError("--max-new-tokens must be positive") }
            settings.maxNewTokens = maxNewTokens
        }
        if let batchSize {
            guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
            settings.batchSize = batchSize
        }
        let databaseURL = try settings.requireDatabaseURL()
        _ = try settings.requireKafkaBrokers()
        guard !settings.storageRoots.isEmpty else {
            throw ValidationError("no storage roots configured: set RADFM_STORAGE_ROOTS=name=/path, storage_roots in the config file, or --storage-root")
        }
        guard !settings.modelDirectory.isEmpty else {
            throw ValidationError("no model configured: set RADFM_MODEL, model.directory in the config file, or --model")
        }
        if let note = openBLASStartupNote { logger.notice("\(note)") }
        logger.info("OpenBLAS kernel", metadata: ["core": "\(OpenBLASRuntime.coreName)"])
        let engine = try RadFMEngine(modelDirectory: URL(fileURLWithPath: settings.modelDirectory),
                                     maxNewTokens: settings.maxNewTokens, logger: logger,
                                     decodeConcurrency: settings.decodeConcurrency)
        let stop = StopSignal()
        let signals = SignalWatcher(signals: [SIGTERM, SIGINT]) { signal in
            logger.notice("signal received; stopping", metadata: ["signal": "\(signal)"])
            stop.request()
        }
        defer { signals.cancel() }
        let metrics = ServiceMetrics()
        let health = ServiceHealth()
        var observability: ObservabilityServer?
        if !settings.observabilityListen.isEmpty {
            observability = try ObservabilityServer(address: settings.observabilityListen, metrics: metrics, health: health)
            logger.info("metrics and probes", metadata: ["listen": "\(settings.observabilityListen)"])
        }
        defer { observability?.stop() }
        let service = StudyConsumerService(settings: settings, engine: engine, logger: logger, metrics: metrics, health: health) {
            try PostgresConnection(url: databaseURL, applicationName: "radfm serve")
        }
        try service.run(stop: stop, exitWhenIdleMilliseconds: exitWhenIdle.map { Int($0 * 1000) })
    }
}

/// Turns SIGTERM/SIGINT into a callback on a background queue instead of killing the process.
final class SignalWatcher {
    private var sources: [DispatchSourceSignal] = []

    init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
        sources.removeAll()
    }
}
