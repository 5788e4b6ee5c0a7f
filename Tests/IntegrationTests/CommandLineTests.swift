import Foundation
import Pipeline
import XCTest

/// The `radfm` executable as operators meet it: help, one-line errors, migrate, backfill.
final class CommandLineTests: XCTestCase {
    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var executable: URL {
        let candidates = [
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("radfm"),
            Bundle.main.bundleURL.appendingPathComponent("radfm"),
            PipelineHarness.repositoryRoot.appendingPathComponent(".build/debug/radfm"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates.last!
    }

    func radfm(_ arguments: [String], environment extra: [String: String] = [:], input: String? = nil) throws -> Outcome {
        guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
            XCTFail("radfm executable not built at \(Self.executable.path): run `swift build` first")
            throw XCTSkip("no executable")
        }
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        // Only what the test names: no RADFM_* leaking in from the developer's shell.
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RADFM_") }
        environment.merge(extra) { $1 }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    func testBenchLockstepAnswersEveryRequestWithOneLineAndRejectsBadOnesWithoutStopping() throws {
        let requests = ["vision 4", "prefill 2", "decode 2", "decode 2", "vision 3", "warp 1", "prefill 1", "quit",
                        "vision 4"]
        let outcome = try radfm(["bench", "--quick", "--lockstep"], input: requests.joined(separator: "\n") + "\n")
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        let answers = Array(lines.drop { $0 != "ready" }.dropFirst())
        XCTAssertEqual(answers.count, 7, "one line per request before `quit`, none after: \(lines)")
        guard answers.count == 7 else { return }
        XCTAssertTrue(answers[0].hasPrefix("vision 64x64x4 "), answers[0])
        XCTAssertTrue(answers[1].hasPrefix("prefill batch 2 "), answers[1])
        XCTAssertTrue(answers[2].hasPrefix("decode batch 2 "), answers[2])
        XCTAssertEqual(answers[3], "error: decode batch 2 needs a prefill of batch 2 first")
        XCTAssertEqual(answers[4], "error: vision depth 3 is not a positive multiple of 4")
        XCTAssertEqual(answers[5], "error: unknown stage `warp` in `warp 1`")
        XCTAssertTrue(answers[6].hasPrefix("prefill batch 1 "), answers[6])
        XCTAssertTrue(lines.contains { $0.hasPrefix("OpenBLAS kernel ") }, "the kernel in use is reported")
    }

    func testBenchQuickTimesEveryStageAndTheDecodeScalingInAlternatingSteps() throws {
        let outcome = try radfm(["bench", "--quick"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        for stage in ["sgemm 256x256x256: ", "vision 64x64x4 ", "prefill batch 1 ", "decode batch 1 ", "prefill batch 2 ",
                      "decode batch 2 ", "decode scaling, batch 2 over 1, alternating steps: "] {
            XCTAssertEqual(lines.filter { $0.hasPrefix(stage) }.count, 1, "one `\(stage)` line in \(lines)")
        }
        let scaling = try XCTUnwrap(lines.first { $0.contains("alternating steps") })
        XCTAssertNotNil(scaling.range(of: #"throughput [0-9.]+x \(pair median [0-9.]+x\)$"#, options: .regularExpression),
                        scaling)
    }

    func testBenchRejectsNonPositiveSizesWithOneLine() throws {
        let outcome = try radfm(["bench", "--quick", "--decode-tokens", "0"])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.stderr.contains("--decode-tokens"), outcome.stderr)
        XCTAssertFalse(outcome.stderr.contains("Fatal error"), outcome.stderr)
    }

    func testHelpListsTheServiceCommands() throws {
        let help = try radfm(["--help"])
        XCTAssertEqual(help.status, 0)
        for command in ["serve", "backfill", "migrate", "audit", "topics", "infer", "tokenize"] {
            XCTAssertTrue(help.stdout.contains(command), "help lists \(command)")
        }
        let serveHelp = try radfm(["serve", "--help"])
        XCTAssertEqual(serveHelp.status, 0)
        XCTAssertTrue(serveHelp.stdout.contains("--batch-size"))
    }

    func testMissingConfigurationGivesOneClearLine() throws {
        let outcome = try radfm(["serve"])
        XCTAssertNotEqual(outcome.status, 0)
        let lines = outcome.stderr.split(separator: "\n").filter { !$0.contains("OPENBLAS") && !$0.contains("openblas") }
        XCTAssertEqual(lines.count, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("no database configured"), outcome.stderr)
    }

    func testUnknownFlagGivesOneClearLineNotAStackTrace() throws {
        let outcome = try radfm(["migrate", "--no-such-flag"])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.stderr.contains("Unknown option '--no-such-flag'"), outcome.stderr)
        XCTAssertFalse(outcome.stderr.contains("Fatal error"))
    }

    func testMigrateTwiceThroughTheCLIIsANoOp() throws {
        let harness = try PipelineHarness()
        // The harness already migrated; the CLI finds nothing to do.
        let outcome = try radfm(["migrate", "--migrations", PipelineHarness.repositoryRoot.appendingPathComponent("Migrations").path],
                                environment: ["RADFM_DATABASE_URL": harness.databaseURL])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("up to date"), outcome.stdout)
    }

    func testBackfillPublishesOneEventPerStudyAndSkipsProcessedStudies() throws {
        let harness = try PipelineHarness(partitions: 2)
        try harness.makeStudies(count: 6, instances: 3)
        try Data("not dicom".utf8).write(to: harness.storageRoot.appendingPathComponent("README.txt"))
        let environment = ["RADFM_DATABASE_URL": harness.databaseURL, "RADFM_KAFKA_BROKERS": harness.brokers,
                           "RADFM_TOPIC": harness.topic, "RADFM_STORAGE_ROOTS": "archive=\(harness.storageRoot.path)"]
        let first = try radfm(["backfill", "--root", "archive"], environment: environment)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("6 studies"), first.stdout)
        XCTAssertTrue(first.stdout.contains("published 6 events"), first.stdout)
        XCTAssertTrue(first.stdout.contains("README.txt: not DICOM"), first.stdout)

        let consumer = harness.startConsumer(engine: RecordingEngine())
        try harness.wait(for: "6 jobs") { try harness.count("SELECT count(*) AS n FROM jobs") == 6 }
        consumer.shutdown()
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM results WHERE output_text LIKE '%from 3 images'"), 12,
                       "every series was grouped with all three instances")

        let second = try radfm(["backfill", "--root", "archive"], environment: environment)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("published 0 events"), second.stdout)
        XCTAssertTrue(second.stdout.contains("6 studies skipped"), second.stdout)
    }
}
