import ArgumentParser

// Placeholder replaced by the module's owner.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "(not built yet)")
    func run() throws { throw ValidationError("radfm inspect is not built yet") }
}
