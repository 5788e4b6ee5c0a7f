import ArgumentParser
import Foundation
import Logging
import Pipeline
import Postgres
import Tensor

/// `radfm bench pipeline`: end-to-end throughput of the batch service on this machine, through the
/// real broker and PostgreSQL. Events for distinct small real studies are published first; then the
/// real consumer service runs in-process until all of them are committed, and the steady state
/// (first commit to last) is reported with where the time went.
struct PipelineBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Measure the batch service end to end (events/s, commit latency, time split, model overhead).",
        discussion: """
            Creates its own database and topic (random suffix) on the configured servers, lays out one \
            small real study per event in a temporary storage root, and removes the database and files \
            afterwards. --engine zero answers instantly (the pipeline's own cost); --engine tiny runs a \
            RadFM model directory (e.g. one made by `radfm model init --config Config/models/radfm-tiny.json`).
            """)

    enum Engine: String, ExpressibleByArgument, CaseIterable {
        case zero, tiny
    }

    @Option(name: .long, help: "YAML configuration file (default: $RADFM_CONFIG, else built-in defaults).")
    var config: String?

    @Option(name: .long, help: "PostgreSQL URI of a role allowed to CREATE DATABASE (default: the configured database URL).")
    var adminDatabaseURL: String?

    @Option(name: .long, help: "Kafka bootstrap brokers (overrides $RADFM_KAFKA_BROKERS).")
    var brokers: String?

    @Option(name: .long, help: "Events to publish and process (one distinct study each).")
    var events: Int = 2000

    @Option(name: .long, help: "Events per batch (default: pipeline.batch_size).")
    var batchSize: Int?

    @Option(name: .long, help: "Studies read and decoded at once (default: pipeline.decode_concurrency).")
    var decodeConcurrency: Int?

    @Option(name: .long, help: "zero: fixed text at once, no pixels read (pipeline cost only); tiny: the RadFM model in --model.")
    var engine: Engine = .zero

    @Option(name: .long, help: "Model directory for --engine tiny (default: $RADFM_MODEL / model.directory).")
    var model: String?

    @Option(name: .long, help: "Generation limit per task for --engine tiny (default: model.max_new_tokens).")
    var maxNewTokens: Int?

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive") }
        if let decodeConcurrency, decodeConcurrency <= 0 { throw ValidationError("--decode-concurrency must be positive") }
    }

    func run() throws {
        if let openBLASStartupNote { print(openBLASStartupNote) }
        var settings = try RadFMSettings.load(file: config)
        if let brokers { settings.kafkaBrokers = brokers }
        if let batchSize { settings.batchSize = batchSize }
        if let decodeConcurrency { settings.decodeConcurrency = decodeConcurrency }
        if let maxNewTokens { settings.maxNewTokens = maxNewTokens }
        let brokers = try settings.requireKafkaBrokers()
        let adminURL = try adminDatabaseURL ?? settings.requireDatabaseURL()
        var logger = Logger(label: "radfm.bench")
        logger.logLevel = .warning
        let engine = TimedEngine(try makeEngine(settings, logger: logger))

        let environment = try PipelineBenchEnvironment(adminURL: adminURL, brokers: brokers, partitions: settings.topicPartitions, logger: logger)
        defer { environment.remove() }
        try environment.makeStudies(count: events)
        try environment.publishEvents(tasks: settings.defaultTasks)
        settings.databaseURL = environment.databaseURL
        settings.topic = environment.topic
        settings.deadLetterTopicOverride = ""
        settings.kafkaGroup = environment.group
        settings.storageRoots = ["bench": environment.storageRoot.path]

        let databaseURL = environment.databaseURL
        let sessionName = "radfm bench pipeline service"
        let service = StudyConsumerService(settings: settings, engine: engine, logger: logger) {
            try PostgresConnection(url: databaseURL, applicationName: sessionName)
        }
        let monitor = try PostgresConnection(url: adminURL, applicationName: "radfm bench pipeline")
        defer { monitor.close() }
        let stop = StopSignal()
        var recorder = PipelineBenchRecorder()
        var backendPID: Int32?
        let expected = events
        service.onBatchCommitted = { [unowned service] batch in
            if backendPID == nil {
                backendPID = PipelineBenchCPU.backendPID(database: environment.databaseName, applicationName: sessionName, admin: monitor)
            }
            let cpu = PipelineBenchRecorder.CPUSample(process: PipelineBenchCPU.processSeconds(), librdkafka: PipelineBenchCPU.librdkafkaThreadSeconds(),
                                                      backend: backendPID.flatMap { PipelineBenchCPU.processSeconds(pid: $0) })
            recorder.record(batch, statistics: service.statistics, engineSeconds: engine.engineSeconds,
                            generationSeconds: engine.generationSeconds, cpu: cpu)
            if recorder.events >= expected { stop.request() }
        }
        let started = Date()
        // Stops by itself if events stop arriving (a fault), so the benchmark cannot hang.
        try service.run(stop: stop, exitWhenIdleMilliseconds: 30_000)

        let check = try PostgresConnection(url: databaseURL, applicationName: "radfm bench pipeline")
        defer { check.close() }
        let jobs = try check.query("SELECT count(*) AS n FROM jobs")[0].decode("n", as: Int.self)
        let deadLetters = try check.query("SELECT count(*) AS n FROM dead_letters")[0].decode("n", as: Int.self)
        let audit = try AuditLog.verify(check)

        PipelineBenchReport(engine: engine.modelID, kind: self.engine, settings: settings, events: events, runStarted: started,
                            recorder: recorder, final: service.statistics, engineSeconds: engine.engineSeconds,
                            generationSeconds: engine.generationSeconds, jobs: jobs, deadLetters: deadLetters,
                            auditRows: audit.rowsChecked, auditIntact: audit.isIntact).print()
        guard jobs == events, audit.isIntact else { throw ExitCode.failure }
    }

    private func makeEngine(_ settings: RadFMSettings, logger: Logger) throws -> InferenceEngine {
        switch engine {
        case .zero:
            return ZeroCostEngine()
        case .tiny:
            let directory = model ?? settings.modelDirectory
            guard !directory.isEmpty else {
                throw ValidationError("--engine tiny needs --model DIR (make one with `radfm model init --config Config/models/radfm-tiny.json --tokenizer PATH --out DIR`)")
            }
            return try RadFMEngine(modelDirectory: URL(fileURLWithPath: directory), maxNewTokens: settings.maxNewTokens, logger: logger,
                                   decodeConcurrency: settings.decodeConcurrency)
        }
    }
}
