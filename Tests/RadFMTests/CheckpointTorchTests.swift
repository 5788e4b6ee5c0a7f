import Foundation
import XCTest

@testable import RadFM

/// `pytorch_model.bin` read natively, checked against a state_dict written by torch.save itself.
final class CheckpointTorchTests: XCTestCase {
    private func assertMatchesTorch(
        _ reader: CheckpointReader, inSaveOrder: Bool = true, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let expected = try CheckpointFixtures.expectedTensors()
        let allKeys = expected.map(\.key) + [CheckpointFixtures.integerKey]
        if inSaveOrder {
            XCTAssertEqual(reader.keys, allKeys, file: file, line: line)
        } else {
            XCTAssertEqual(reader.keys.sorted(), allKeys.sorted(), file: file, line: line)
        }
        for (key, tensor) in expected {
            XCTAssertEqual(reader.shape(of: key), tensor.shape, key, file: file, line: line)
            let values = try reader.readArray(key)
            XCTAssertEqual(values, tensor.values.map { Float($0) }, key, file: file, line: line)
        }
    }

    func testTorchSaveStateDictReadsEveryDtypeAndStridedViewExactly() throws {
        try assertMatchesTorch(TorchCheckpointReader(file: CheckpointFixtures.url("torch_state_dict.bin")))
    }

    func testZip64ArchiveWithEscapedSizesAndOffsetsReadsTheSame() throws {
        try assertMatchesTorch(TorchCheckpointReader(file: CheckpointFixtures.url("torch_state_dict_zip64.bin")))
    }

    func testPickleProtocol4WithStackGlobalsAndFramesReads() throws {
        let reader = try TorchCheckpointReader(file: CheckpointFixtures.url("torch_state_dict_protocol4.bin"))
        XCTAssertEqual(reader.keys, ["a.weight", "a.bias"])
        XCTAssertEqual(
            try reader.readArray("a.weight"),
            [0.7376294732093811, 1.9459291696548462, -0.6995416283607483, -1.3022973537445068, -0.5132622122764587,
             -0.26961955428123474].map { Float($0) })
        XCTAssertEqual(try reader.readArray("a.bias"), [0.24609375, 0.484375])
    }

    func testSafetensorsWrittenByThePythonLibraryReadsExactly() throws {
        // The library lays tensors out by dtype alignment, then name, not in insertion order.
        try assertMatchesTorch(
            SafetensorsReader(file: CheckpointFixtures.url("python_reference.safetensors")), inSaveOrder: false)
    }

    func testTransposedViewIsReadInLogicalOrderNotStorageOrder() throws {
        let reader = try TorchCheckpointReader(file: CheckpointFixtures.url("torch_state_dict.bin"))
        let stored = try reader.stored("decoder.weight_t")
        XCTAssertEqual(stored.shape, [7, 5])
        XCTAssertEqual(stored.strides, [1, 7])
        let transposed = try reader.readArray("decoder.weight_t")
        // Element [i][j] of the transposed view is element [j][i] of the [5, 7] storage it views.
        for i in 0..<7 {
            for j in 0..<5 {
                XCTAssertEqual(transposed[i * 5 + j], stored.storage.load(fromByteOffset: (j * 7 + i) * 4, as: Float.self))
            }
        }
    }

    func testOpenCheckpointFindsPytorchModelBinInADirectory() throws {
        let directory = try CheckpointFixtures.temporaryDirectory()
        try FileManager.default.copyItem(
            at: CheckpointFixtures.url("torch_state_dict.bin"), to: directory.appendingPathComponent("pytorch_model.bin"))
        let reader = try openCheckpoint(directory: directory)
        XCTAssertTrue(reader is TorchCheckpointReader)
        try assertMatchesTorch(reader)
    }

    func testReadingIntoABufferOfTheWrongSizeNamesTheKeyAndBothShapes() throws {
        let reader = try TorchCheckpointReader(file: CheckpointFixtures.url("torch_state_dict.bin"))
        var buffer = [Float](repeating: 0, count: 23)
        let error = checkpointError {
            try buffer.withUnsafeMutableBufferPointer { try reader.read("encoder.weight", into: $0) }
        }
        XCTAssertEqual(error?.kind, .shapeMismatch)
        XCTAssertEqual(error?.key, "encoder.weight")
        XCTAssertEqual(error?.actualShape, [4, 6])
        XCTAssertEqual(error?.expectedShape, [23])
        XCTAssertTrue(error?.description.contains("torch_state_dict.bin") ?? false)
    }

    func testExpectedShapeWithTheSameElementCountButOtherDimensionsIsRejected() throws {
        let reader = try TorchCheckpointReader(file: CheckpointFixtures.url("torch_state_dict.bin"))
        var buffer = [Float](repeating: 0, count: 24)
        let error = checkpointError {
            try buffer.withUnsafeMutableBufferPointer { try reader.read("encoder.weight", into: $0, expectedShape: [6, 4]) }
        }
        XCTAssertEqual(error?.kind, .shapeMismatch)
        XCTAssertEqual(error?.expectedShape, [6, 4])
        XCTAssertEqual(error?.actualShape, [4, 6])
    }

    func testIntegerBufferIsListedButReadingItAsFloatNamesTheKeyAndType() throws {
        let reader = try TorchCheckpointReader(file: CheckpointFixtures.url("torch_state_dict.bin"))
        XCTAssertEqual(reader.shape(of: CheckpointFixtures.integerKey), [1, 5])
        let error = checkpointError { _ = try reader.readArray(CheckpointFixtures.integerKey) }
        XCTAssertEqual(error?.kind, .unsupported)
        XCTAssertEqual(error?.key, CheckpointFixtures.integerKey)
        XCTAssertTrue(error?.detail.contains("I64") ?? false, error?.description ?? "")
    }

    func testMissingKeyGivesMissingTensorError() throws {
        let reader = try TorchCheckpointReader(file: CheckpointFixtures.url("torch_state_dict.bin"))
        let error = checkpointError { _ = try reader.readArray("lang_model.lm_head.weight") }
        XCTAssertEqual(error?.kind, .missingTensor)
        XCTAssertEqual(error?.key, "lang_model.lm_head.weight")
    }

    func testTruncatedFileGivesTypedErrorNamingTheFile() throws {
        let directory = try CheckpointFixtures.temporaryDirectory()
        let original = try Data(contentsOf: CheckpointFixtures.url("torch_state_dict.bin"))
        for length in [original.count - 30, original.count / 2, 10] {
            let truncated = directory.appendingPathComponent("truncated-\(length).bin")
            try original.prefix(length).write(to: truncated)
            let error = checkpointError { _ = try TorchCheckpointReader(file: truncated) }
            XCTAssertEqual(error?.kind, .malformed, "length \(length)")
            XCTAssertEqual(error?.file, truncated.path, "length \(length)")
        }
    }

    func testCorruptCentralDirectoryOffsetGivesTypedErrorNamingTheFile() throws {
        let directory = try CheckpointFixtures.temporaryDirectory()
        var bytes = [UInt8](try Data(contentsOf: CheckpointFixtures.url("torch_state_dict.bin")))
        // The zip64 end record's central-directory offset sits 48 bytes into it; point it past the end.
        let record = bytes.count - 22 - 20 - 56
        for index in 0..<8 { bytes[record + 48 + index] = 0x7F }
        let corrupt = directory.appendingPathComponent("corrupt.bin")
        try Data(bytes).write(to: corrupt)
        let error = checkpointError { _ = try TorchCheckpointReader(file: corrupt) }
        XCTAssertEqual(error?.kind, .malformed)
        XCTAssertEqual(error?.file, corrupt.path)
    }

    func testEmptyFileGivesTypedErrorNamingTheFile() throws {
        let empty = try CheckpointFixtures.temporaryDirectory().appendingPathComponent("empty.bin")
        try Data().write(to: empty)
        let error = checkpointError { _ = try TorchCheckpointReader(file: empty) }
        XCTAssertEqual(error?.file, empty.path)
    }

    func testPickleEndingBeforeStopGivesMalformedErrorNamingTheFile() throws {
        // PROTO 2, EMPTY_DICT, MARK, BINUNICODE 'a' ... and nothing more.
        let bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x28, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61]
        let error = checkpointError {
            _ = try bytes.withUnsafeBytes { try StateDictUnpickler.tensors(pickle: $0, file: "model.bin") }
        }
        XCTAssertEqual(error?.kind, .malformed)
        XCTAssertEqual(error?.file, "model.bin")
        XCTAssertTrue(error?.detail.contains("truncated") ?? false, error?.description ?? "")
    }

    func testPickleCallingAnUnknownGlobalIsRefusedByName() throws {
        let url = CheckpointFixtures.url("unknown_global.bin")
        let error = checkpointError { _ = try TorchCheckpointReader(file: url) }
        XCTAssertEqual(error?.kind, .unsupported)
        XCTAssertEqual(error?.file, url.path)
        XCTAssertTrue(error?.detail.contains("posix.system") ?? false, error?.description ?? "")
    }
}
