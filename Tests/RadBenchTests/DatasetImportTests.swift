import Foundation
import RadBench
import XCTest

final class DatasetImportTests: XCTestCase {
    private var folder: URL!
    private var images: URL { folder.appendingPathComponent("images") }

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("radbench-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let file = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file.path
    }

    func testVQARADNumericAnswersAndIdsBecomeText() throws {
        let file = try write("vqa_rad.json", """
            [{"qid": 1, "image_name": "synpic54610.jpg", "question": "Is there a fracture?", "answer": "No", "answer_type": "CLOSED"},
             {"qid": 2, "image_name": "synpic29265.jpg", "question": "How many lesions?", "answer": 3, "answer_type": "OPEN"}]
            """)
        let samples = try DatasetFormat.vqaRAD.samples(file: file, images: images)
        XCTAssertEqual(samples.map(\.id), ["vqa-rad/1", "vqa-rad/2"])
        XCTAssertEqual(samples.map(\.reference), ["No", "3"])
        XCTAssertEqual(samples[0].images, [images.appendingPathComponent("synpic54610.jpg")])
        XCTAssertTrue(samples.allSatisfy { $0.task == .vqa })
    }

    func testSLAKEKeepsEnglishQuestionsOnly() throws {
        let file = try write("test.json", """
            [{"qid": 11, "img_name": "xmlab1/source.jpg", "question": "Which organ?", "answer": "Lung", "q_lang": "en"},
             {"qid": 12, "img_name": "xmlab1/source.jpg", "question": "哪个器官?", "answer": "肺", "q_lang": "zh"}]
            """)
        let samples = try DatasetFormat.slake.samples(file: file, images: images)
        XCTAssertEqual(samples.map(\.id), ["slake/11"])
        XCTAssertEqual(samples[0].images.map(\.lastPathComponent), ["source.jpg"])
    }

    func testMissingFieldNamesFileAndElement() throws {
        let file = try write("vqa_rad.json", #"[{"qid": 1, "image_name": "a.jpg", "question": "q", "answer": "a"}, {"qid": 2, "question": "q", "answer": "a"}]"#)
        XCTAssertThrowsError(try DatasetFormat.vqaRAD.samples(file: file, images: images)) {
            XCTAssertEqual(String(describing: $0), "\(file) element 2: missing or non-text \"image_name\"")
        }
    }

    func testPMCVQAChoicesLoseTheirLettersAndJoinTheQuestion() throws {
        let file = try write("test.csv", """
            Figure_path,Question,Answer,Choice A,Choice B,Choice C,Choice D,Answer_label
            PMC1_fig1.jpg,"Which modality, if any?",B:MRI, A:CT , B:MRI , C:X-ray , D:PET ,B

            """)
        let samples = try DatasetFormat.pmcVQA.samples(file: file, images: images)
        XCTAssertEqual(samples.count, 1)
        XCTAssertEqual(samples[0].choices, ["CT", "MRI", "X-ray", "PET"])
        XCTAssertEqual(samples[0].reference, "MRI")
        XCTAssertEqual(samples[0].question, "Which modality, if any? Choices: A: CT B: MRI C: X-ray D: PET")
        XCTAssertEqual(samples[0].line, 2)
    }

    func testReportCSVWithMultilineQuotedReportsAndSeveralImages() throws {
        let file = try write("reports.csv", "study_id,image_path,report\r\ns1,\"p1/a.dcm; p1/b.dcm\",\"FINDINGS: clear lungs.\r\nIMPRESSION: \"\"normal\"\".\"\r\ns2,p2/c.dcm,No change.\r\n")
        let samples = try DatasetFormat.reportCSV.samples(file: file, images: images)
        XCTAssertEqual(samples.map(\.id), ["report/s1", "report/s2"])
        XCTAssertEqual(samples[0].images.map(\.lastPathComponent), ["a.dcm", "b.dcm"])
        XCTAssertEqual(samples[0].reference, "FINDINGS: clear lungs.\r\nIMPRESSION: \"normal\".", "line breaks inside quotes are content (RFC 4180)")
        XCTAssertEqual(samples[1].line, 4)
        XCTAssertEqual(samples[0].question, DatasetFormat.reportQuestion)
    }

    func testCSVRowWithWrongFieldCountAndMissingColumnAreNamed() throws {
        let ragged = try write("ragged.csv", "study_id,image_path,report\ns1,a.dcm\n")
        XCTAssertThrowsError(try DatasetFormat.reportCSV.samples(file: ragged, images: images)) {
            XCTAssertEqual(String(describing: $0), "\(ragged):2: 2 fields, header has 3")
        }
        let renamed = try write("renamed.csv", "study,image_path,report\ns1,a.dcm,ok\n")
        XCTAssertThrowsError(try DatasetFormat.reportCSV.samples(file: renamed, images: images)) {
            XCTAssertEqual(String(describing: $0), "\(renamed):1: no column \"study_id\" (columns: study, image_path, report)")
        }
    }

    func testWrittenManifestReadsBackTheSameSamples() throws {
        let file = try write("reports.csv", "study_id,image_path,report\ns1,p1/a.dcm,Clear.\n")
        let outside = BenchSample(id: "abs", task: .modality, images: [URL(fileURLWithPath: "/data/ct.dcm")],
                                  question: "Which modality?", reference: "CT", choices: ["CT", "MR"], line: 2)
        let samples = try DatasetFormat.reportCSV.samples(file: file, images: images) + [outside]
        let manifest = folder.appendingPathComponent("manifest.jsonl")
        try BenchManifest.encode(samples, relativeTo: folder).write(to: manifest)
        XCTAssertTrue(try String(contentsOf: manifest, encoding: .utf8).contains("\"images\":[\"images/p1/a.dcm\"]"))
        let loaded = try BenchManifest.load(path: manifest.path)
        XCTAssertEqual(loaded.map(\.id), samples.map(\.id))
        XCTAssertEqual(loaded.map { $0.images.map(\.standardizedFileURL.path) }, samples.map { $0.images.map(\.standardizedFileURL.path) })
        XCTAssertEqual(loaded.map(\.choices), samples.map(\.choices))
        XCTAssertEqual(loaded.map(\.reference), samples.map(\.reference))
    }
}
