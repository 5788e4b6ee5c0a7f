import Foundation
import XCTest

/// Runs python3 (pydicom, numpy) to find the real test files and to produce reference values.
/// Without python3 or pydicom the calling test is skipped, unless the CI variable is set: then it fails.
enum PythonReference {
    static func run(_ script: String, arguments: [String] = []) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            try unavailable("python3 cannot be started: \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 3 { try unavailable(errorText) }
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "PythonReference", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "python3 failed: \(errorText)"])
        }
        return data
    }

    /// The path of one file of pydicom's or pydicom-data's test set, without building the full reference.
    static func testFile(named name: String) throws -> String {
        let output = try run(imports + """
        path = get_testdata_file(sys.argv[1])
        if path is None:
            print(sys.argv[1] + " is not in pydicom's test files", file=sys.stderr); sys.exit(3)
        print(path)
        """, arguments: [name])
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func unavailable(_ reason: String) throws -> Never {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            XCTFail("reference tooling missing in CI: \(reason)")
            throw XCTSkip("reference tooling missing: \(reason)")
        }
        throw XCTSkip("reference tooling missing: \(reason)")
    }

    /// Prelude for scripts: exit status 3 tells the test that pydicom or numpy is missing.
    static let imports = """
    import sys, json, os
    try:
        import numpy as np
        import pydicom
        from pydicom.data import get_testdata_files, get_testdata_file
    except ImportError as error:
        print(error, file=sys.stderr)
        sys.exit(3)
    import warnings
    warnings.filterwarnings("ignore")

    """
}
