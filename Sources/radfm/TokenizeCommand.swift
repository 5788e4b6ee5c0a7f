import ArgumentParser

// Placeholder replaced by the module's owner.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "(not built yet)")
    func run() throws { throw ValidationError("radfm tokenize is not built yet") }
}
