import Foundation
import RadFM
import Training
import XCTest

/// Manifests through the Imaging module and RadFM's tokenizer into batches.
final class TrainingDatasetTests: XCTestCase {
    var folder: URL!
    var tokenizer: RadFMTokenizer!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: SampleEncoderTests.tokenizerURL.path))
        tokenizer = try RadFMTokenizer(modelFile: SampleEncoderTests.tokenizerURL)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dataset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("img"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    /// A float32 little-endian .npy file (format 1.0).
    func writeNpy(_ name: String, shape: [Int]) throws {
        let count = shape.reduce(1, *)
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        header += String(repeating: " ", count: (64 - (10 + header.count + 1) % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        var length = UInt16(header.utf8.count).littleEndian
        data.append(Data(bytes: &length, count: 2))
        data.append(Data(header.utf8))
        var values = (0..<count).map { Float($0 % 17) / 16 }
        data.append(Data(bytes: &values, count: count * 4))
        try data.write(to: folder.appendingPathComponent("img/\(name)"))
    }

    func testManifestImagesLoadThroughImagingAndBatchByDepth() throws {
        try writeNpy("flat.npy", shape: [3, 16, 16, 4])     // preprocessed tensor, depth 4
        try writeNpy("volume.npy", shape: [20, 20, 13])     // a volume of 13 slices: depth 12
        try writeNpy("picture.npy", shape: [10, 10])        // a 2D picture: depth 4
        let manifest = folder.appendingPathComponent("train.jsonl")
        try [
            #"{"images": [{"path": "img/flat.npy"}], "question": "Modality?", "answer": "CT"}"#,
            #"{"images": [{"path": "img/volume.npy", "position": 3}], "question": "Findings?", "answer": "None."}"#,
            #"{"images": [{"path": "img/picture.npy"}], "question": "Fracture?", "answer": "yes"}"#,
            #"{"question": "Normal heart rate?", "answer": "60 to 100"}"#,
        ].joined(separator: "\n").write(to: manifest, atomically: true, encoding: .utf8)
        let encoder = SampleEncoder(tokenizer: tokenizer, tokensPerImage: 4, maxImages: 4, vocabularySize: 32000,
                                    maxSequenceLength: 512)
        let dataset = try TrainingDataset.load([ManifestSource(url: manifest)], encoder: encoder, imageSize: 16,
                                               batchSize: 3, shuffle: false, seed: 0)
        XCTAssertEqual(dataset.plan.depthGroup, [[4, 12, 4, 4]])
        XCTAssertEqual(dataset.plan.batches(epoch: 0).map { $0.map(\.index) }, [[0, 2, 3], [1]])
        let volume = try dataset.example(SampleID(source: 0, index: 1))
        XCTAssertEqual(volume.images.map(\.shape), [[3, 16, 16, 12]])
        XCTAssertEqual(try dataset.example(SampleID(source: 0, index: 3)).images.count, 0)
        XCTAssertEqual(volume.inputIds.filter { $0 >= 32002 }, [32002, 32003, 32004, 32005])
    }

    func testMissingImageFailsAtLoadNamingManifestLineAndFile() throws {
        let manifest = folder.appendingPathComponent("bad.jsonl")
        try #"{"images": [{"path": "img/absent.png"}], "question": "Q?", "answer": "A"}"#
            .write(to: manifest, atomically: true, encoding: .utf8)
        let encoder = SampleEncoder(tokenizer: tokenizer, tokensPerImage: 4, maxImages: 4, vocabularySize: 32000,
                                    maxSequenceLength: 512)
        XCTAssertThrowsError(try TrainingDataset.load([ManifestSource(url: manifest)], encoder: encoder, imageSize: 16,
                                                      batchSize: 1, shuffle: false, seed: 0)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(manifest.path):1: "), "\(error)")
            XCTAssertTrue("\(error)".contains("absent.png"), "\(error)")
        }
    }
}
