import Foundation
@testable import Pipeline
import XCTest

final class SampleStudyTests: XCTestCase {
    private let manifest = #"[{"study_instance_uid":"1.2.3","accession_number":"A1","series":[{"series_instance_uid":"1.2.3.4","modality":"CT","instances":["s1/IM0001.dcm","s1/IM0002.dcm"]}]}]"#

    private func studies() throws -> [SampleStudy] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sample-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(manifest.utf8).write(to: file)
        return try SampleStudy.load(manifest: file)
    }

    func testManifestOfTheSampleScriptDecodesIntoEventSeries() throws {
        XCTAssertEqual(try studies(), [SampleStudy(
            studyInstanceUID: "1.2.3", accessionNumber: "A1",
            series: [.init(seriesInstanceUID: "1.2.3.4", modality: "CT", instances: ["s1/IM0001.dcm", "s1/IM0002.dcm"])])])
    }

    func testStudyUnderASubfolderPrefixesEveryInstancePathAndTheEventCarriesThem() throws {
        let study = try studies()[0].under(folder: "batch0")
        let event = study.event(storageRoot: "archive", tasks: [.report], eventID: "e1")
        XCTAssertEqual(event.series[0].instances, ["batch0/s1/IM0001.dcm", "batch0/s1/IM0002.dcm"])
        XCTAssertEqual([event.eventID, event.studyInstanceUID, event.accessionNumber, event.storageRoot], ["e1", "1.2.3", "A1", "archive"])
        XCTAssertEqual(event.tasks, [.report])
    }
}
