import ArgumentParser

struct RadfmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "radfm",
        abstract: "RadFM radiology foundation model: batch service, inference and tools.",
        subcommands: [
            InferCommand.self, TokenizeCommand.self, BenchCommand.self, ModelCommand.self,
            PreprocessCommand.self, InspectCommand.self,
        ]
    )
}
