import Foundation
import XCTest
@testable import Imaging

/// NIfTI and NPY readers on real data.
final class OtherFormatTests: XCTestCase {
    func testNiftiVolumeEqualsNumpysParseOfTheSameFile() throws {
        let reference = try Ch2Reference.shared()
        let image = try NiftiReader.read(path: Ch2Reference.niftiPath)
        XCTAssertEqual(image.dimensions, [181, 217, 181])
        XCTAssertEqual(image.spacing, [1, 1, 1])
        let expected = try NpyFile.read(path: reference.niftiArrayPath)
        // numpy's array is [x][y][z]; the file stores x fastest.
        let volume = image.volume(source: Ch2Reference.niftiPath)
        XCTAssertEqual([volume.rows, volume.columns, volume.depth], expected.shape)
        var mismatches = 0
        for x in stride(from: 0, to: 181, by: 7) {
            for y in stride(from: 0, to: 217, by: 5) {
                for z in stride(from: 0, to: 181, by: 3) {
                    let ours = volume.data[(z * 181 + x) * 217 + y]
                    if ours != expected.data[(x * 217 + y) * 181 + z] { mismatches += 1 }
                }
            }
        }
        XCTAssertEqual(mismatches, 0)
        let dicomVolume = try NpyFile.read(path: reference.volumePath).data
        XCTAssertEqual(volume.data.map { $0 * Ch2Reference.slope + Ch2Reference.intercept }, dicomVolume)
    }

    func testTruncatedNiftiGivesTypedError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nifti-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let compressed = try Data(contentsOf: URL(fileURLWithPath: Ch2Reference.niftiPath))
        let path = folder.appendingPathComponent("cut.nii.gz").path
        try compressed.prefix(compressed.count / 2).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try NiftiReader.read(path: path)) { error in
            XCTAssertEqual((error as? ImageFileError)?.kind, .truncated, "\(error)")
            XCTAssertEqual((error as? ImageFileError)?.path, path)
        }
    }

    func testNpyRoundTripKeepsShapeAndValues() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID().uuidString).npy").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let array = NpyArray(shape: [2, 3, 4], data: (0..<24).map { Float($0) * 0.5 - 3 })
        try NpyFile.write(array, to: path)
        let read = try NpyFile.read(path: path)
        XCTAssertEqual(read.shape, [2, 3, 4])
        XCTAssertEqual(read.data, array.data)
        let numpy = try PythonReference.run(PythonReference.imports + """
        a = np.load(sys.argv[1]); print(a.dtype, a.shape, float(a.sum()))
        """, arguments: [path])
        XCTAssertEqual(String(decoding: numpy, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), "float32 (2, 3, 4) 66.0")
    }
}
