import ArgumentParser
import Foundation
import RadBench

extension DatasetFormat: ExpressibleByArgument {}

extension EvalCommand {
    /// `radfm eval import`: a public dataset in its own format to a RadBench manifest.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert VQA-RAD, SLAKE, PMC-VQA or a MIMIC-CXR style report CSV into a RadBench manifest.")

        @Option(help: "The dataset's format: \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
        var format: DatasetFormat

        @Option(help: "The dataset's question or report file (JSON or CSV).")
        var input: String

        @Option(help: "The dataset's image folder; image names in the input are relative to it.")
        var images: String

        @Option(help: "The manifest to write; image paths inside its folder are written relative to it.")
        var out: String

        func run() throws {
            let samples = try format.samples(file: input, images: URL(fileURLWithPath: images))
            let manifest = URL(fileURLWithPath: out)
            try BenchManifest.encode(samples, relativeTo: manifest.deletingLastPathComponent()).write(to: manifest)
            print("\(out): \(samples.count) samples")
        }
    }
}
