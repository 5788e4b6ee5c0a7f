import ArgumentParser

// Placeholder replaced by the module's owner.
struct PreprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "preprocess", abstract: "(not built yet)")
    func run() throws { throw ValidationError("radfm preprocess is not built yet") }
}
