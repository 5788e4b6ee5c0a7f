import ArgumentParser

// Placeholder replaced by the module's owner.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "infer", abstract: "(not built yet)")
    func run() throws { throw ValidationError("radfm infer is not built yet") }
}
