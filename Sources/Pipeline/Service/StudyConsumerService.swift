import Foundation
import Kafka
import Logging
import Postgres

/// The `radfm serve` loop: poll study events, gather a batch (N events or T milliseconds), process
/// it, dead-letter poison events, and commit results + audit rows + next offsets in one transaction.
///
/// The broker and the database are used from the calling thread only: librdkafka delivers rebalance
/// callbacks inside `poll`, so assignment changes can never interleave with a batch being written.
/// PostgreSQL holds the offsets (seeked to on assignment); Kafka commits are informational. Batches are
/// processed on their own thread (`BackgroundBatch`) while this one keeps polling. When a full next
/// batch is already fetched as a batch goes to commit, it is processed meanwhile (one batch ahead at
/// most) and committed after it.
public final class StudyConsumerService: KafkaRebalanceListener {
    public struct Statistics: Sendable, Equatable {
        public var batches = 0
        public var eventsConsumed = 0
        public var jobsWritten = 0
        public var resultsWritten = 0
        public var deadLetters = 0
        public var duplicateDeliveries = 0
        public var transientFaults = 0
        /// Times the consumer paused its partitions because a whole next batch waited for the model.
        public var backpressurePauses = 0
        /// Times partitions were taken from this member: rebalances, a lost membership, and leaving at shutdown.
        public var revocations = 0
        /// Where the loop's time went, in seconds: waiting in the broker poll, decoding events and
        /// reading studies, the engine, publishing dead letters, and the PostgreSQL commit.
        public var pollSeconds = 0.0
        public var loadSeconds = 0.0
        public var inferenceSeconds = 0.0
        /// Batches processed ahead on another thread while the batch before them committed: how many,
        /// their load and engine time (overlapping the loop's), and how long the loop still waited
        /// for them. `loadSeconds` and `inferenceSeconds` count the loop thread's own processing.
        public var prefetchedBatches = 0
        public var prefetchedLoadSeconds = 0.0
        public var prefetchedInferenceSeconds = 0.0
        public var prefetchWaitSeconds = 0.0
        public var deadLetterPublishSeconds = 0.0
        public var commitSeconds = 0.0
    }

    /// One batch made durable, as reported to `onBatchCommitted`.
    public struct CommittedBatch: Sendable {
        public let events: Int
        /// The PostgreSQL transaction alone (results, audit rows, offsets).
        public let commitSeconds: Double
        public let committedAt: Date
    }

    private let settings: RadFMSettings
    private let processor: StudyProcessor
    private let engine: InferenceEngine
    private let logger: Logger
    private let connect: () throws -> PostgresConnection
    public let metrics: ServiceMetrics
    public let health: ServiceHealth

    private var store: ResultStore?
    private var consumer: KafkaConsumer?
    private var deadLetters: DeadLetterPublisher?
    /// Consumed messages are committed in this order: the batch being committed, the prefetched
    /// batch, then the messages gathered for the batch after. Revocation drops the revoked partitions'
    /// share of each.
    private var inFlight: [KafkaMessage] = []
    private var prefetch: BackgroundBatch?
    private var pending: [KafkaMessage] = []
    private var stopSignal: StopSignal?
    /// Next offsets committed to PostgreSQL by this process, for the lag gauge.
    private var committed: [TopicPartition: Int64] = [:]
    private var assigned: Set<TopicPartition> = []
    public private(set) var statistics = Statistics()
    /// Called on the service's thread after each batch's transaction committed (benchmarks watch it).
    public var onBatchCommitted: ((CommittedBatch) -> Void)?

    public init(settings: RadFMSettings, engine: InferenceEngine, logger: Logger,
                metrics: ServiceMetrics = ServiceMetrics(), health: ServiceHealth = ServiceHealth(),
                connect: @escaping () throws -> PostgresConnection) {
        self.settings = settings
        self.metrics = metrics
        self.health = health
        self.engine = engine
        self.logger = logger
        self.connect = connect
        self.processor = StudyProcessor(
            decoder: StudyEventDecoder(maxEventBytes: settings.maxEventBytes, defaultTasks: settings.defaultTasks),
            loader: StudyLoader(locator: StudyLocator(roots: settings.storageRoots)),
            engine: engine, prompts: settings.prompts,
            diagnosisLabels: settings.diagnosisLabels, diagnosisLabelPrompt: settings.diagnosisLabelPrompt,
            decodeConcurrency: settings.decodeConcurrency)
    }

    /// Runs until `stop` is requested (or, with `exitWhenIdle`, until no event arrived for that many
    /// milliseconds). Throws only for faults that retrying cannot fix.
    public func run(stop: StopSignal, exitWhenIdleMilliseconds: Int? = nil) throws {
        stopSignal = stop
        let brokers = try settings.requireKafkaBrokers()
        let db = try withRetry("connect to PostgreSQL", stop: stop) { try self.connect() }
        guard let db else { return }
        let store = ResultStore(connection: db, consumerGroup: settings.kafkaGroup)
        self.store = store
        try withRetry("register the model", stop: stop) {
            try store.registerModel(id: self.engine.modelID, checkpointSHA256: self.engine.checkpointSHA256,
                                    description: self.engine.generationSettings)
        }
        let kafkaConfig = KafkaConfiguration(brokers: brokers, settings: settings.kafkaSettings)
        let producer = try KafkaProducer(configuration: kafkaConfig, logger: logger)
        deadLetters = DeadLetterPublisher(producer: producer, topic: settings.deadLetterTopic)
        let consumer = try KafkaConsumer(configuration: kafkaConfig, groupID: settings.kafkaGroup,
                                         topics: [settings.topic], listener: self, logger: logger)
        self.consumer = consumer
        health.setReady(true, reason: "consuming")
        defer {
            health.setReady(false, reason: "stopped")
            // Leaving on an error with a batch processed ahead: it must not still be running the
            // engine once `run` has returned.
            prefetch?.discard()
            prefetch = nil
            consumer.close()
            producer.close()
            db.close()
            self.consumer = nil
            self.store = nil
        }
        logger.info("consuming", metadata: ["topic": "\(settings.topic)", "group": "\(settings.kafkaGroup)",
                                           "model": "\(engine.modelID)", "batch_size": "\(settings.batchSize)"])

        var batchOpenedAt: Date?
        var lastActivity = Date()
        while !stop.isRequested {
            health.loopTurned()
            let waitMs: Int
            if let opened = batchOpenedAt {
                waitMs = max(0, settings.batchWaitMilliseconds - Int(Date().timeIntervalSince(opened) * 1000))
            } else {
                waitMs = 100
            }
            let pollStarted = Date()
            let polled = try consumer.poll(timeoutMilliseconds: prefetch == nil ? waitMs : 0)
            statistics.pollSeconds += Date().timeIntervalSince(pollStarted)
            if let message = polled {
                if accept(message), batchOpenedAt == nil { batchOpenedAt = Date() }
                lastActivity = Date()
            }
            let batchDue = prefetch != nil || pending.count >= settings.batchSize
                || (batchOpenedAt.map { Date().timeIntervalSince($0) * 1000 >= Double(settings.batchWaitMilliseconds) } ?? false)
            if batchDue && (prefetch != nil || !pending.isEmpty) {
                try processPending()
                batchOpenedAt = pending.isEmpty ? nil : Date()
                lastActivity = Date()
            } else if pending.isEmpty {
                batchOpenedAt = nil
            }
            refreshLag(consumer)
            if let idle = exitWhenIdleMilliseconds, pending.isEmpty, prefetch == nil, !assigned.isEmpty,
               Date().timeIntervalSince(lastActivity) * 1000 >= Double(idle) {
                logger.info("no events for \(idle) ms; stopping as asked")
                break
            }
        }
        if let prefetched = prefetch {
            // Processed ahead but not committed: it is replayed after the restart, and so is everything
            // gathered after it in its partitions, which must not be committed past it.
            prefetched.discard()
            prefetch = nil
            let skipped = Set(prefetched.messages.map(\.topicPartition))
            pending.removeAll { skipped.contains($0.topicPartition) }
            logger.info("shutting down: dropping the batch processed ahead", metadata: ["events": "\(prefetched.messages.count)"])
        }
        if !pending.isEmpty {
            logger.info("shutting down: finishing the batch in flight", metadata: ["events": "\(pending.count)"])
            try processPending(prefetchingNext: false)
        }
        logger.info("stopped", metadata: ["events": "\(statistics.eventsConsumed)", "jobs": "\(statistics.jobsWritten)",
                                         "dead_letters": "\(statistics.deadLetters)"])
    }

    // MARK: Batches

    /// Commits the next batch: the prefetched one, or else `pending`, processed now. Retries transient
    /// faults with capped backoff while the partitions stay paused (nothing is fetched, nothing
    /// advances). Once a stop is requested, gives up the batch, uncommitted, when the shutdown deadline
    /// passes.
    private func processPending(prefetchingNext: Bool = true) throws {
        guard let store, let consumer, let deadLetters else { return }
        let started = Date()
        let outcomes: [ProcessedMessage]
        let timing: StudyProcessor.Timing
        if let prefetched = prefetch {
            prefetch = nil
            inFlight = prefetched.messages
            (outcomes, timing) = try awaitProcessing(prefetched, consumer: consumer)
            statistics.prefetchedBatches += 1
            statistics.prefetchWaitSeconds += Date().timeIntervalSince(started)
            statistics.prefetchedLoadSeconds += timing.loadSeconds
            statistics.prefetchedInferenceSeconds += timing.inferenceSeconds
        } else {
            inFlight = pending
            pending.removeAll()
            (outcomes, timing) = try awaitProcessing(BackgroundBatch(messages: inFlight, processor: processor), consumer: consumer)
            statistics.loadSeconds += timing.loadSeconds
            statistics.inferenceSeconds += timing.inferenceSeconds
        }
        metrics.inferenceSeconds.record(timing.loadSeconds + timing.inferenceSeconds)
        if prefetchingNext { try prefetchNextBatch(consumer) }
        var backoff = Backoff(initialMilliseconds: settings.retryInitialMilliseconds, maxMilliseconds: settings.retryMaxMilliseconds)
        var paused: [TopicPartition] = []
        defer { if !paused.isEmpty { try? consumer.resume(paused.filter { assigned.contains($0) }) } }
        while true {
            // Revocation during a retry removes the revoked partitions' messages: their new owner redoes them.
            let live = Set(inFlight.map(\.offsetKey))
            let batch = outcomes.filter { live.contains(OffsetKey($0.position)) }
            if batch.isEmpty { inFlight.removeAll(); return }
            do {
                let publishStarted = Date()
                for item in batch {
                    if case .deadLettered(let letter) = item.outcome {
                        try deadLetters.publish(letter, from: item.position, key: letter.key)
                    }
                }
                let commitStarted = Date()
                statistics.deadLetterPublishSeconds += commitStarted.timeIntervalSince(publishStarted)
                let summary = try store.commit(batch, modelID: engine.modelID)
                let committedAt = Date()
                let commitSeconds = committedAt.timeIntervalSince(commitStarted)
                statistics.commitSeconds += commitSeconds
                metrics.commitSeconds.record(commitSeconds)
                record(summary, batch: batch, started: started)
                if !paused.isEmpty { health.setReady(true, reason: "consuming") }
                var next: [TopicPartition: Int64] = [:]
                for item in batch {
                    let tp = TopicPartition(topic: item.position.topic, partition: item.position.partition)
                    next[tp] = max(next[tp] ?? 0, item.position.offset + 1)
                }
                try? consumer.commit(next)
                committed.merge(next) { $1 }
                refreshLag(consumer, force: true)
                inFlight.removeAll()
                onBatchCommitted?(CommittedBatch(events: batch.count, commitSeconds: commitSeconds, committedAt: committedAt))
                return
            } catch let error where Self.isTransient(error) {
                statistics.transientFaults += 1
                metrics.transientFault(component: error is PostgresError ? "postgres" : "kafka")
                health.setReady(false, reason: "transient fault, retrying: \(error)")
                health.loopTurned()
                if paused.isEmpty {
                    paused = Array(assigned)
                    try? consumer.pause(paused)
                }
                let wait = backoff.next()
                logger.warning("transient fault; batch kept, retrying", metadata: ["error": "\(error)", "retry_in_ms": "\(wait)",
                                                                                   "attempt": "\(backoff.attempt)"])
                let deadline = stopSignal?.requestTime?.addingTimeInterval(settings.shutdownDeadlineSeconds)
                if let deadline, Date().addingTimeInterval(Double(wait) / 1000) > deadline {
                    logger.error("shutdown deadline passed; abandoning the batch uncommitted (it will be replayed)",
                                 metadata: ["events": "\(inFlight.count)"])
                    prefetch?.discard()
                    prefetch = nil
                    inFlight.removeAll()
                    pending.removeAll()
                    return
                }
                try idle(milliseconds: wait)
                if !store.connection.isConnected { try? store.connection.reconnect() }
            }
        }
    }

    /// Waits for a batch running on its own thread while still polling: a model run of many minutes
    /// must not look like a dead member to the group (librdkafka's `max.poll.interval.ms`), rebalance
    /// callbacks still run, and messages keep being gathered for the next batch. Once a whole next batch
    /// has waited for the model for a second, the assigned partitions are paused until this one is
    /// done: librdkafka then neither buffers without bound nor keeps asking the broker for more. Not
    /// sooner: a pause drops what librdkafka has fetched ahead, and a resume that overtakes a fetch in
    /// flight backs that partition off for `fetch.error.backoff.ms` (500 ms by default), which cost a
    /// fast engine three quarters of its throughput when every batch paused.
    private func awaitProcessing(_ batch: BackgroundBatch, consumer: KafkaConsumer) throws
        -> (outcomes: [ProcessedMessage], timing: StudyProcessor.Timing) {
        let waitStarted = Date()
        var paused: Set<TopicPartition> = []
        // Partitions revoked meanwhile need no resume: the consumer forgets the pauses of departed ones.
        defer { if !paused.isEmpty { try? consumer.resume(Array(paused)) } }
        return try batch.wait(every: .milliseconds(20)) {
            if pending.count < settings.batchSize {
                try gatherFetched(consumer)
                return
            }
            // A whole next batch is waiting: polling now would only take more messages. Until the pause,
            // the group protocol waits (at most `pauseAfterSeconds`, far below max.poll.interval.ms).
            guard Date().timeIntervalSince(waitStarted) >= Self.pauseAfterSeconds else { return }
            let unpaused = assigned.subtracting(paused)
            if !unpaused.isEmpty {
                try consumer.pause(Array(unpaused))
                paused.formUnion(unpaused)
                statistics.backpressurePauses += 1
                metrics.backpressurePauses.increment()
            }
            // Fetched before the pause took effect: kept for the next batch rather than lost.
            if let message = try consumer.poll(timeoutMilliseconds: 0) { accept(message) }
        }
    }

    /// Waits while still serving the group protocol (rebalance callbacks arrive inside poll).
    private func idle(milliseconds: Int) throws {
        guard let consumer else { return }
        let until = Date().addingTimeInterval(Double(milliseconds) / 1000)
        while Date() < until {
            if let message = try consumer.poll(timeoutMilliseconds: min(100, max(1, Int(until.timeIntervalSinceNow * 1000)))) {
                // Fetched before the pause took effect: keep it for a later batch rather than lose it.
                let key = message.offsetKey
                let held = inFlight.contains { $0.offsetKey == key } || pending.contains { $0.offsetKey == key }
                    || (prefetch?.messages.contains { $0.offsetKey == key } ?? false)
                if assigned.contains(message.topicPartition) && !held { pending.append(message) }
            }
        }
    }

    /// Adds a polled message to the batch being gathered unless its partition is no longer ours.
    @discardableResult
    private func accept(_ message: KafkaMessage) -> Bool {
        guard assigned.contains(message.topicPartition) else { return false }
        pending.append(message)
        statistics.eventsConsumed += 1
        metrics.eventsConsumed.increment()
        return true
    }

    /// Adds what the consumer has already fetched, without waiting, to `pending`, up to a whole batch.
    private func gatherFetched(_ consumer: KafkaConsumer) throws {
        while pending.count < settings.batchSize, let message = try consumer.poll(timeoutMilliseconds: 0) { accept(message) }
    }

    /// Takes what the consumer has already fetched, without waiting, and when that fills a batch starts
    /// processing it while the current batch commits. A partial batch stays in `pending` to be
    /// gathered as usual. Rebalance callbacks may run in these polls, as in any other.
    private func prefetchNextBatch(_ consumer: KafkaConsumer) throws {
        guard prefetch == nil, !(stopSignal?.isRequested ?? false) else { return }
        let pollStarted = Date()
        try gatherFetched(consumer)
        statistics.pollSeconds += Date().timeIntervalSince(pollStarted)
        guard pending.count >= settings.batchSize else { return }
        prefetch = BackgroundBatch(messages: pending, processor: processor)
        pending.removeAll()
    }

    private func record(_ summary: CommitSummary, batch: [ProcessedMessage], started: Date) {
        let events = batch.count
        metrics.batchSize.record(Double(events))
        metrics.jobsCompleted.increment(by: Double(summary.jobsWritten))
        metrics.resultsWritten.increment(by: Double(summary.resultsWritten))
        metrics.duplicateDeliveries.increment(by: Double(summary.duplicateDeliveries))
        for item in batch {
            if case .deadLettered(let letter) = item.outcome { metrics.failed(errorClass: letter.errorClass) }
        }
        statistics.batches += 1
        statistics.jobsWritten += summary.jobsWritten
        statistics.resultsWritten += summary.resultsWritten
        statistics.deadLetters += summary.deadLettersWritten
        statistics.duplicateDeliveries += summary.duplicateDeliveries
        logger.info("batch committed", metadata: [
            "events": "\(events)", "jobs": "\(summary.jobsWritten)", "results": "\(summary.resultsWritten)",
            "dead_letters": "\(summary.deadLettersWritten)", "duplicates": "\(summary.duplicateDeliveries)",
            "already_committed": "\(summary.alreadyCommitted)",
            "ms": "\(Int(Date().timeIntervalSince(started) * 1000))",
        ])
    }

    /// Keeps the lag gauge current between batches too (the end offsets move while we wait).
    private func refreshLag(_ consumer: KafkaConsumer, force: Bool = false) {
        let now = Date()
        guard force || now.timeIntervalSince(lastLagRefresh) >= 5 else { return }
        lastLagRefresh = now
        for (partition, offset) in committed {
            if let end = consumer.cachedHighWatermark(partition) {
                metrics.setLag(end - offset, topic: partition.topic, partition: partition.partition)
            }
        }
    }

    private var lastLagRefresh = Date.distantPast

    static func isTransient(_ error: Error) -> Bool {
        if let pg = error as? PostgresError { return pg.isTransient }
        if let kafka = error as? KafkaError { return kafka.isRetriable }
        return false
    }

    private func withRetry<T>(_ what: String, stop: StopSignal, _ body: () throws -> T) throws -> T? {
        var backoff = Backoff(initialMilliseconds: settings.retryInitialMilliseconds, maxMilliseconds: settings.retryMaxMilliseconds)
        while !stop.isRequested {
            do { return try body() } catch where Self.isTransient(error) {
                let wait = backoff.next()
                logger.warning("cannot \(what) yet; retrying", metadata: ["error": "\(error)", "retry_in_ms": "\(wait)"])
                Thread.sleep(forTimeInterval: Double(wait) / 1000)
            }
        }
        return nil
    }

    // MARK: KafkaRebalanceListener

    public func partitionsAssigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        guard let store else { return [:] }
        var backoff = Backoff(initialMilliseconds: settings.retryInitialMilliseconds, maxMilliseconds: 5_000)
        var offsets: [TopicPartition: Int64] = [:]
        for (topic, parts) in Dictionary(grouping: partitions, by: \.topic) {
            var stored: [Int32: Int64]?
            let giveUp = Date().addingTimeInterval(60)
            while stored == nil {
                do { stored = try store.storedOffsets(topic: topic, partitions: parts.map(\.partition)) } catch where Self.isTransient(error) && Date() < giveUp {
                    let wait = backoff.next()
                    logger.warning("cannot read stored offsets yet; retrying", metadata: ["error": "\(error)", "retry_in_ms": "\(wait)"])
                    Thread.sleep(forTimeInterval: Double(wait) / 1000)
                    if !store.connection.isConnected { try? store.connection.reconnect() }
                }
            }
            for part in parts {
                // Never committed in PostgreSQL: start at the beginning; replays are harmless by design.
                offsets[part] = stored?[part.partition] ?? Self.offsetBeginning
            }
        }
        assigned.formUnion(partitions)
        for part in partitions { if let start = offsets[part], start >= 0 { committed[part] = start } }
        logger.info("partitions assigned", metadata: ["partitions": "\(partitions.map(\.description).sorted())",
                                                      "offsets": "\(offsets.map { "\($0.key)=\($0.value)" }.sorted())"])
        return offsets
    }

    public func partitionsRevoked(_ partitions: [TopicPartition]) {
        let revoked = Set(partitions)
        statistics.revocations += 1
        assigned.subtract(revoked)
        for part in partitions {
            committed[part] = nil
            metrics.clearLag(topic: part.topic, partition: part.partition)
        }
        let isRevoked = { (message: KafkaMessage) in revoked.contains(message.topicPartition) }
        let before = inFlight.count + pending.count + (prefetch?.messages.count ?? 0)
        inFlight.removeAll(where: isRevoked)
        prefetch?.drop(where: isRevoked)
        pending.removeAll(where: isRevoked)
        let after = inFlight.count + pending.count + (prefetch?.messages.count ?? 0)
        logger.info("partitions revoked", metadata: ["partitions": "\(partitions.map(\.description).sorted())",
                                                     "dropped_uncommitted": "\(before - after)"])
    }

    /// How long a whole next batch waits for the model before fetching pauses (see `awaitProcessing`).
    static let pauseAfterSeconds = 1.0

    /// librdkafka's RD_KAFKA_OFFSET_BEGINNING.
    static let offsetBeginning: Int64 = -2
}

private struct OffsetKey: Hashable {
    let topic: String
    let partition: Int32
    let offset: Int64
    init(_ topic: String, _ partition: Int32, _ offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
    init(_ position: MessagePosition) { self.init(position.topic, position.partition, position.offset) }
}

private extension KafkaMessage {
    var offsetKey: OffsetKey { OffsetKey(topic, partition, offset) }
}
