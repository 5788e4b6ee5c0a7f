import ArgumentParser

// Placeholder replaced by the module's owner.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "(not built yet)")
    func run() throws { throw ValidationError("radfm model is not built yet") }
}
