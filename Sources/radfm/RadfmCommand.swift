import ArgumentParser

struct RadfmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "radfm",
        abstract: "RadFM radiology foundation model: hospital batch service, inference and tools.",
        discussion: """
            Configuration: Config/radfm.yaml (--config or $RADFM_CONFIG) < environment (RADFM_DATABASE_URL, \
            RADFM_KAFKA_BROKERS, RADFM_KAFKA_GROUP, RADFM_TOPIC, RADFM_STORAGE_ROOTS, RADFM_MODEL, \
            RADFM_KAFKA_<librdkafka setting>) < command-line flags.
            """,
        subcommands: [
            ServeCommand.self, BackfillCommand.self, MigrateCommand.self, AuditCommand.self, DeadLetterCommand.self, TopicsCommand.self,
            InferCommand.self, TokenizeCommand.self, PreprocessCommand.self, InspectCommand.self,
            EvalCommand.self, ModelCommand.self, BenchCommand.self,
        ]
    )
}
