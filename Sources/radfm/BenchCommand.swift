import ArgumentParser

// Placeholder replaced by the module's owner.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "(not built yet)")
    func run() throws { throw ValidationError("radfm bench is not built yet") }
}
