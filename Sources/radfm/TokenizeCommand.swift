import ArgumentParser
import Foundation
import RadFM

/// `radfm tokenize`: the ids RadFM's tokenizer gives a text, bos first, with the image markup split out.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text, as RadFM's LLaMA tokenizer with its image tokens encodes it.")

    enum OutputFormat: String, ExpressibleByArgument { case text, json }

    @Option(help: "Model directory holding tokenizer.model, or the tokenizer.model file (default: $RADFM_MODEL).")
    var model: String?

    @Option(help: "text (ids separated by spaces) or json ({\"ids\":[...]}).")
    var format: OutputFormat = .text

    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        guard let location = model ?? ProcessInfo.processInfo.environment["RADFM_MODEL"] else {
            throw ValidationError("--model is required (or set RADFM_MODEL)")
        }
        var modelFile = URL(fileURLWithPath: location)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: location, isDirectory: &isDirectory), isDirectory.boolValue {
            modelFile.appendPathComponent("tokenizer.model")
        }
        let ids = try RadFMTokenizer(modelFile: modelFile).encode(text)
        switch format {
        case .text:
            print(ids.map(String.init).joined(separator: " "))
        case .json:
            print(String(decoding: try JSONEncoder().encode(["ids": ids]), as: UTF8.self))
        }
    }
}
