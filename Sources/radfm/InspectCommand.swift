import ArgumentParser
import Foundation
import Imaging

/// `radfm inspect`: what a study folder or image file holds, and what was skipped and why.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show the series, modality, shape and spacing found at PATH, and what was skipped and why.")

    enum Format: String, ExpressibleByArgument { case text, json }

    @Argument(help: "A DICOM study folder, a DICOM file, or a NIfTI, NPY, PNG or JPEG file.")
    var path: String

    @Option(help: "text or json.")
    var format: Format = .text

    func run() throws {
        let report = try ImageInspector.inspect(path: path)
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        case .text:
            print(text(report))
        }
    }

    private func text(_ report: InspectionReport) -> String {
        var lines = ["\(report.path): \(report.images.count) image(s)"]
        for image in report.images {
            let shape = image.shape.map(String.init).joined(separator: "x")
            let spacing = image.spacing.map { " spacing " + $0.map { String(format: "%.3g", $0) }.joined(separator: "x") + " mm" } ?? ""
            let series = image.seriesInstanceUID.map { " series \($0)" } ?? ""
            lines.append("  \(image.format) \(image.modality ?? "-")\(series): \(image.isVolume ? "3D" : "2D") \(shape)"
                + " x\(image.channels) channel(s), \(image.files) file(s)\(spacing)")
        }
        for rejected in report.rejectedSeries {
            lines.append("  rejected series \(rejected.seriesInstanceUID): \(rejected.problem): \(rejected.message)")
        }
        for skipped in report.skipped { lines.append("  skipped \(skipped.path): \(skipped.reason)") }
        return lines.joined(separator: "\n")
    }
}
