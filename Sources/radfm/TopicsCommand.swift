import ArgumentParser
import Foundation
import Kafka
import Pipeline

struct TopicsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Kafka topic tools.",
        subcommands: [Ensure.self])

    struct Ensure: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the study-event topic and its dead-letter topic when missing (kafka.partitions partitions).")

        @OptionGroup var options: ServiceOptions

        @Option(name: .long, help: "Partitions for newly created topics (default: kafka.partitions, 6).")
        var partitions: Int?

        func run() throws {
            let settings = try options.settings()
            let logger = try options.logger("radfm.topics")
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: try settings.requireKafkaBrokers(), settings: settings.kafkaSettings),
                                       logger: logger)
            for topic in [settings.topic, settings.deadLetterTopic] {
                try admin.createTopic(topic, partitions: partitions ?? settings.topicPartitions,
                                      replicationFactor: settings.topicReplicationFactor)
                let count = try admin.partitionCount(topic: topic) ?? 0
                print("topics: \(topic) (\(count) partitions)")
            }
        }
    }
}
