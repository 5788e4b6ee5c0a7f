import Foundation
import RadBench
import XCTest

final class BenchManifestTests: XCTestCase {
    private let folder = URL(fileURLWithPath: "/bench/set")

    private func parse(_ lines: [String]) throws -> [BenchSample] {
        try BenchManifest.parse(Data(lines.joined(separator: "\n").utf8), file: "set.jsonl", imagesRelativeTo: folder)
    }

    private func error(_ lines: [String]) -> String {
        do {
            _ = try parse(lines)
            return "no error"
        } catch {
            return String(describing: error)
        }
    }

    private let ct = #"{"id":"a","task":"modality","images":["dicom/ct.dcm"],"question":"Which modality?","answer":"CT","choices":["CT","MR"]}"#

    func testRelativeImagesResolveAgainstTheManifestFolderAndAbsoluteOnesStay() throws {
        let samples = try parse([ct, "", #"{"id":"b","task":"vqa","images":["/abs/mr.nii.gz"],"question":"Is it normal?","answer":"yes"}"#])
        XCTAssertEqual(samples.map(\.id), ["a", "b"])
        XCTAssertEqual(samples[0].images.map(\.path), ["/bench/set/dicom/ct.dcm"])
        XCTAssertEqual(samples[1].images.map(\.path), ["/abs/mr.nii.gz"])
        XCTAssertEqual(samples[0].choices, ["CT", "MR"])
        XCTAssertEqual(samples[1].choices, [])
        XCTAssertEqual(samples[1].task, .vqa)
        XCTAssertEqual(samples[1].line, 3)
    }

    func testMissingAnswerNamesFileAndLine() {
        XCTAssertEqual(error([ct, #"{"id":"b","task":"report","images":[],"question":"Findings?"}"#]),
                       "set.jsonl:2: missing \"answer\"")
    }

    func testUnknownTaskNamesTheTaskAndTheKnownOnes() {
        XCTAssertEqual(error([#"{"id":"a","task":"segmentation","images":[],"question":"q","answer":"a"}"#]),
                       "set.jsonl:1: unknown task \"segmentation\" (expected one of modality, diagnosis, vqa, report, rationale)")
    }

    func testAnswerOutsideItsChoicesIsRejected() {
        XCTAssertEqual(error([#"{"id":"a","task":"modality","images":[],"question":"q","answer":"PET","choices":["CT","MR"]}"#]),
                       "set.jsonl:1: answer \"PET\" is not one of \"choices\"")
    }

    func testDuplicateIDNamesTheFirstLine() {
        XCTAssertEqual(error([ct, ct]), "set.jsonl:2: id \"a\" already used on line 1")
    }

    func testImagesThatAreNotStringsAreRejected() {
        XCTAssertEqual(error([#"{"id":"a","task":"vqa","images":"ct.dcm","question":"q","answer":"a"}"#]),
                       "set.jsonl:1: \"images\" must be an array of strings")
    }

    func testBrokenJSONAndEmptyFilesAreRejected() {
        XCTAssertEqual(error([ct, "{\"id\":"]), "set.jsonl:2: not a JSON object on one line")
        XCTAssertEqual(error(["", "  "]), "set.jsonl: no samples")
    }

    func testCommittedRadBenchOfflineManifestParses() throws {
        let manifest = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Bench/radbench-offline/manifest.jsonl")
        let samples = try BenchManifest.load(path: manifest.path)
        XCTAssertTrue(samples.allSatisfy { $0.images.count == 1 })
        let modality = samples.filter { $0.task == .modality }
        XCTAssertGreaterThanOrEqual(modality.count, 20)
        XCTAssertEqual(Set(modality.map(\.reference)), ["CT", "MR", "X-ray", "US", "NM"])
        // Yes/no diagnosis is balanced: every picture is asked once about its modality and once about another.
        let diagnosis = samples.filter { $0.task == .diagnosis }
        XCTAssertEqual(diagnosis.filter { $0.reference == "yes" }.count, diagnosis.filter { $0.reference == "no" }.count)
        XCTAssertEqual(Set(samples.map(\.task)), [.modality, .diagnosis, .vqa, .report])
    }
}
