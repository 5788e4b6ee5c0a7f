import Foundation
import Training
import XCTest

final class ManifestReaderTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func write(_ lines: [String], name: String = "train.jsonl") throws -> URL {
        let url = folder.appendingPathComponent(name)
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testRelativeImagePathsResolveAgainstTheManifestFolderAndDefaultsApply() throws {
        let url = try write([
            #"{"images": [{"path": "scans/a.nii.gz", "position": 3, "in": "answer"}, {"path": "/abs/b.png"}], "#
                + #""question": "Q?", "answer": "A"}"#,
            "",
            #"{"question": "text only", "answer": "yes"}"#,
        ])
        let samples = try ManifestReader.read(url)
        XCTAssertEqual(samples.count, 2)
        XCTAssertEqual(samples[0].images[0].url.path, folder.appendingPathComponent("scans/a.nii.gz").standardizedFileURL.path)
        XCTAssertEqual(samples[0].images[0].position, 3)
        XCTAssertEqual(samples[0].images[0].placement, .answer)
        XCTAssertEqual(samples[0].images[1], ManifestSample.Image(url: URL(fileURLWithPath: "/abs/b.png")))
        XCTAssertEqual(samples[1].images, [])
        XCTAssertEqual(samples[1].line, 3, "blank lines still count for line numbers")
        XCTAssertEqual(samples[1].manifestPath, url.path)
    }

    func testMalformedLineGivesTypedErrorNamingFileAndLine() throws {
        let url = try write([#"{"question": "q", "answer": "a"}"#, #"{"question": "q", "answer": "a""#])
        XCTAssertThrowsError(try ManifestReader.read(url)) { error in
            guard case TrainingDataError.invalidLine(let path, let line, _) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(path, url.path)
            XCTAssertEqual(line, 2)
            XCTAssertTrue("\(error)".hasPrefix("\(url.path):2: "), "\(error)")
        }
    }

    func testMissingAnswerAndUnknownPlacementAreNamed() throws {
        let missing = try write([#"{"question": "q"}"#], name: "missing.jsonl")
        XCTAssertThrowsError(try ManifestReader.read(missing)) { error in
            XCTAssertTrue("\(error)".contains("missing field \"answer\""), "\(error)")
        }
        let placement = try write([#"{"images": [{"path": "x", "in": "caption"}], "question": "q", "answer": "a"}"#],
                                  name: "placement.jsonl")
        XCTAssertThrowsError(try ManifestReader.read(placement)) { error in
            guard case TrainingDataError.invalidLine(_, 1, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("images.0.in"), reason)
        }
    }

    func testEmptyManifestIsAnError() throws {
        let url = try write(["", "  "])
        XCTAssertThrowsError(try ManifestReader.read(url)) { error in
            XCTAssertEqual(error as? TrainingDataError, .emptyManifest(path: url.path))
        }
    }
}
