import Foundation
import Imaging
import RadBench
import XCTest

final class BenchReportTests: XCTestCase {
    private let result = BenchRunResult(modelID: "tiny <random>", benchmark: "radbench-offline", maxNewTokens: 8, predictions: [
        BenchPrediction(id: "m1", task: .modality, prediction: "CT", reference: "CT"),
        BenchPrediction(id: "m2", task: .modality, prediction: "MR", reference: "CT"),
        BenchPrediction(id: "m3", task: .modality, prediction: "US", reference: "US"),
        BenchPrediction(id: "d1", task: .diagnosis, prediction: "Yes, there is a fracture.", reference: "yes"),
        BenchPrediction(id: "v1", task: .vqa, prediction: "left lung", reference: "left lower lobe"),
        BenchPrediction(id: "r1", task: .report, prediction: "no acute findings", reference: "no acute cardiopulmonary findings"),
    ])

    func testReportHasOneSectionPerTaskWithConfusionMatricesOnlyForClosedTasks() {
        let html = BenchReport.html(result)
        XCTAssertEqual(html.components(separatedBy: "<section>").count - 1, 4)
        XCTAssertEqual(html.components(separatedBy: "aria-label=\"confusion matrix\"").count - 1, 2)
        XCTAssertFalse(html.contains("http://") && html.contains("<script"), "no scripts")
        XCTAssertFalse(html.contains("src=\"http"), "no external assets")
        XCTAssertTrue(html.contains("tiny &lt;random&gt;"), "model id is escaped")
        XCTAssertFalse(html.contains("tiny <random>"))
    }

    /// Headless Chromium renders the report; the screenshot must show drawn plots (coloured bars), not a
    /// blank page. Without Chromium the test skips, except in CI (env CI), where it is required.
    func testReportRendersInHeadlessChromium() throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("chromium is not installed (Debian package chromium)") }
            throw XCTSkip("chromium is not installed (Debian package chromium)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("radbench-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("report.html"), shot = folder.appendingPathComponent("report.png")
        try Data(BenchReport.html(result).utf8).write(to: page)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=900,1400",
                             "--user-data-dir=" + folder.appendingPathComponent("profile").path,
                             "--screenshot=" + shot.path, page.absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        if let keep = ProcessInfo.processInfo.environment["RADBENCH_KEEP_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: shot, to: URL(fileURLWithPath: keep))
        }

        let image = try RasterImageReader.read(path: shot.path)
        XCTAssertEqual(image.columns, 900)
        XCTAssertGreaterThanOrEqual(image.channels, 3)
        var inked = 0, blue = 0, orange = 0
        image.data.withUnsafeBufferPointer { pixels in
            for start in stride(from: 0, to: pixels.count, by: image.channels) {
                let red = pixels[start], green = pixels[start + 1], bluePart = pixels[start + 2]
                if red < 0.9 * pixels[0] || green < 0.9 * pixels[1] || bluePart < 0.9 * pixels[2] { inked += 1 }
                if bluePart > red * 1.5 { blue += 1 }
                if red > bluePart * 2 { orange += 1 }
            }
        }
        let total = image.rows * image.columns
        XCTAssertGreaterThan(Double(inked) / Double(total), 0.02, "the page is (nearly) blank")
        XCTAssertGreaterThan(blue, 500, "no metric bars drawn")
        XCTAssertGreaterThan(orange, 500, "no histograms drawn")
    }
}
