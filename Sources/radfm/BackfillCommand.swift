import ArgumentParser
import Foundation
import Kafka
import Pipeline
import Postgres

struct BackfillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Walk a storage root, group its DICOM files into studies, and publish one event per study.",
        discussion: """
            Studies that already have results are skipped unless --all is given. Files are grouped by their \
            Study/Series Instance UIDs, not by folder. Event ids are derived from the study and its files, so \
            running a backfill twice does not make the service process a study twice; --all publishes fresh ids.
            """)

    @OptionGroup var options: ServiceOptions

    @Option(name: .long, help: "Name of the storage root to walk.")
    var root: String

    @OptionGroup var roots: StorageRootOptions

    @Flag(name: .long, help: "Publish every study, including those that already have results.")
    var all = false

    @Option(name: .long, parsing: .upToNextOption, help: "Tasks to request (default: pipeline.default_tasks).")
    var tasks: [String] = []

    @Flag(name: .long, help: "Scan and report; publish nothing.")
    var dryRun = false

    func run() throws {
        var settings = try options.settings()
        let logger = try options.logger("radfm.backfill")
        try roots.apply(to: &settings)
        let requested = try tasks.map { name -> StudyTask in
            guard let task = StudyTask(rawValue: name), task != .vqa else {
                throw ValidationError("unknown task '\(name)' (backfill can request: report, diagnosis, modality, rationale)")
            }
            return task
        }
        let locator = StudyLocator(roots: settings.storageRoots)
        let progress = ProgressLine()
        let scan = try ArchiveScanner(locator: locator, rootName: root).scan { partial in
            progress.update("scanning \(root): \(partial.filesSeen) files")
        }
        progress.finish("scanned \(root): \(scan.filesSeen) files, \(scan.studies.count) studies, \(scan.skipped.count) files skipped")
        for (path, reason) in scan.skipped.prefix(20) { print("  skipped \(path): \(reason)") }
        if scan.skipped.count > 20 { print("  ... and \(scan.skipped.count - 20) more skipped files") }

        var studies = scan.studies
        var alreadyDone = 0
        if !all && !studies.isEmpty {
            let db = try PostgresConnection(url: try settings.requireDatabaseURL(), applicationName: "radfm backfill")
            defer { db.close() }
            let done = try Set(db.query("SELECT DISTINCT study_instance_uid FROM results WHERE study_instance_uid = ANY($1::text[])",
                                        [PostgresArrayLiteral.text(studies.map(\.studyInstanceUID))]).map { try $0.decode("study_instance_uid", as: String.self) })
            alreadyDone = studies.count
            studies.removeAll { done.contains($0.studyInstanceUID) }
            alreadyDone -= studies.count
        }
        if dryRun {
            print("backfill: would publish \(studies.count) events (\(alreadyDone) studies already have results)")
            return
        }
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: try settings.requireKafkaBrokers(), settings: settings.kafkaSettings),
                                         logger: logger)
        defer { producer.close() }
        let taskList = requested.isEmpty ? settings.defaultTasks : requested
        for (index, study) in studies.enumerated() {
            let event = BackfillEvents.event(for: study, root: root, tasks: taskList, fresh: all)
            try producer.enqueue(topic: settings.topic, key: Array(study.studyInstanceUID.utf8), value: event.encoded())
            progress.update("publishing: \(index + 1)/\(studies.count) events")
        }
        try producer.flush(timeoutMilliseconds: 60_000)
        progress.finish("backfill: published \(studies.count) events to \(settings.topic) (\(alreadyDone) studies skipped: already have results)")
    }
}

/// A single status line: rewritten in place on a terminal, printed now and then otherwise (logs).
final class ProgressLine {
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastPrint = Date.distantPast

    func update(_ text: String) {
        let now = Date()
        guard now.timeIntervalSince(lastPrint) >= (isTerminal ? 0.1 : 5) else { return }
        lastPrint = now
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + text : text + "\n").utf8))
    }

    func finish(_ text: String) {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print(text)
        lastPrint = .distantPast
    }
}
