import ArgumentParser
import Foundation
import Kafka
import Pipeline
import Postgres

struct DeadLetterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Dead-letter tools.",
        subcommands: [Replay.self])

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead letters back to the study topic after the cause was fixed.",
            discussion: "Select by --id and/or --error-class, or --all. Letters already replayed are skipped unless --again.")

        @OptionGroup var options: ServiceOptions

        @Option(name: .long, help: "dead_letters.dead_letter_id to replay (repeatable).")
        var id: [Int64] = []

        @Option(name: .long, help: "Replay every letter of this error class (e.g. storage.missingFile).")
        var errorClass: String?

        @Flag(name: .long, help: "Replay every letter not yet replayed.")
        var all = false

        @Flag(name: .long, help: "Include letters that were replayed before.")
        var again = false

        @Flag(name: .long, help: "List what would be replayed; send nothing.")
        var dryRun = false

        func validate() throws {
            if id.isEmpty && errorClass == nil && !all {
                throw ValidationError("choose what to replay: --id N, --error-class CLASS, or --all")
            }
        }

        func run() throws {
            let settings = try options.settings()
            let logger = try options.logger("radfm.dlq")
            let db = try PostgresConnection(url: try settings.requireDatabaseURL(), applicationName: "radfm dlq replay")
            defer { db.close() }
            let replayer = DeadLetterReplayer(db: db)
            let letters = try replayer.select(.init(ids: id, errorClass: errorClass, again: again))
            if dryRun {
                for letter in letters { print("\(letter.id)\t\(letter.errorClass)\t\(letter.eventID ?? "-")") }
                print("dlq: would replay \(letters.count) letters to \(settings.topic)")
                return
            }
            let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: try settings.requireKafkaBrokers(), settings: settings.kafkaSettings),
                                             logger: logger)
            defer { producer.close() }
            let sent = try replayer.replay(letters, to: settings.topic, producer: producer)
            print("dlq: replayed \(sent) letters to \(settings.topic)")
        }
    }
}
