import ArgumentParser

// Placeholder replaced by the module's owner.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "(not built yet)")
    func run() throws { throw ValidationError("radfm eval is not built yet") }
}
