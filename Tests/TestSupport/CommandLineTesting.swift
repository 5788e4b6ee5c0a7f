import Foundation
import XCTest

/// What tests of the `radfm` executable share: the repository root, the executable that `swift build` puts
/// beside the test bundle, LLaMA's tokenizer from shared/radfm, and running a program. A missing executable,
/// tokenizer or tool is a skip locally and a failure in CI (env `CI` set).
public enum CommandLineTesting {
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static func skipOrFail(_ message: String, file: StaticString = #filePath, line: UInt = #line) throws -> Never {
        if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail(message, file: file, line: line) }
        throw XCTSkip(message, file: file, line: line)
    }

    /// Runs `executable` with `arguments` and no `RADFM_` variables from the caller's environment (test.sh
    /// exports the local service's database, which a test's run must not write to).
    public static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RADFM_") }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    /// Runs the `radfm` executable built with the tests of `testCase`.
    public static func radfm(_ arguments: [String], builtWith testCase: AnyClass) throws -> (status: Int32, output: String, errors: String) {
        let bundle = Bundle(for: testCase).bundleURL
        let binary = (bundle.pathExtension == "xctest" ? bundle.deletingLastPathComponent() : bundle).appendingPathComponent("radfm")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { try skipOrFail("radfm not built at \(binary.path)") }
        return try run(binary, arguments)
    }

    /// LLaMA's tokenizer.model from the shared/radfm folder beside the repository.
    public static func tokenizer() throws -> URL {
        let candidates = [repository.deletingLastPathComponent().appendingPathComponent("shared/radfm/tokenizer.model"),
                          URL(fileURLWithPath: "/work/shared/radfm/tokenizer.model")]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            try skipOrFail("LLaMA tokenizer.model not found in shared/radfm")
        }
        return found
    }

    /// A fresh folder under the temporary directory, named `prefix-UUID`.
    public static func temporaryFolder(_ prefix: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
