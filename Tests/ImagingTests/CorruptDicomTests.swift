import Foundation
import XCTest
@testable import Imaging

/// Broken and hostile files give a typed DicomError naming the file, never a crash.
final class CorruptDicomTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-dicom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// CT_small.dcm: explicit VR little endian, 128x128, 16-bit, one frame.
    private func realFile() throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: try PythonReference.testFile(named: "CT_small.dcm")))
    }

    private func write(_ data: Data, _ name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    /// Replaces the 2-byte value of an explicit VR US element (tag, "US", length 2).
    private func patchUnsigned(_ data: inout Data, group: UInt16, element: UInt16, value: UInt16) throws {
        let pattern: [UInt8] = [UInt8(group & 0xff), UInt8(group >> 8), UInt8(element & 0xff), UInt8(element >> 8), 0x55, 0x53, 2, 0]
        let range = try XCTUnwrap(data.firstRange(of: Data(pattern)), "element (\(group),\(element)) not found")
        data[range.upperBound] = UInt8(value & 0xff)
        data[range.upperBound + 1] = UInt8(value >> 8)
    }

    private func assertError(_ kind: DicomError.Kind, path: String, file: StaticString = #filePath, line: UInt = #line,
                             _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? DicomError else { return XCTFail("untyped error \(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertEqual(error.path, path, file: file, line: line)
            XCTAssertTrue(error.description.contains(path), file: file, line: line)
        }
    }

    func testTruncatedFileGivesTypedErrorNamingTheFile() throws {
        let data = try realFile()
        let path = try write(data.prefix(data.count - 5000), "truncated.dcm")
        assertError(.truncated, path: path) { _ = try DicomReader.decode(path: path) }
    }

    func testFileCutInsideTheHeaderIsTruncated() throws {
        let path = try write(try realFile().prefix(700), "cut-header.dcm")
        assertError(.truncated, path: path) { _ = try DicomReader.readHeader(path: path) }
    }

    func testPixelDataShorterThanTheHeaderClaimsIsCorrupt() throws {
        var data = try realFile()
        try patchUnsigned(&data, group: 0x0028, element: 0x0010, value: 200)
        let path = try write(data, "wrong-length.dcm")
        assertError(.corrupt, path: path) { _ = try DicomReader.readHeader(path: path) }
        assertError(.corrupt, path: path) { _ = try DicomReader.decode(path: path) }
    }

    func testAbsurdDimensionsExceedTheLimitsBeforeAnyAllocation() throws {
        var data = try realFile()
        try patchUnsigned(&data, group: 0x0028, element: 0x0010, value: 65535)
        try patchUnsigned(&data, group: 0x0028, element: 0x0011, value: 65535)
        let path = try write(data, "absurd.dcm")
        assertError(.limitExceeded, path: path) { _ = try DicomReader.decode(path: path) }
    }

    func testConfiguredLimitIsEnforced() throws {
        let path = try write(try realFile(), "small.dcm")
        let limits = DicomLimits(maxRows: 64, maxColumns: 64, maxFrames: 1, maxTotalBytes: 1 << 20)
        assertError(.limitExceeded, path: path) { _ = try DicomReader.decode(path: path, limits: limits) }
        XCTAssertNoThrow(try DicomReader.decode(path: path))
    }

    func testGarbageBytesAreNotDicom() throws {
        var generator = SystemRandomNumberGenerator()
        let garbage = Data((0..<4096).map { _ in UInt8.random(in: 1...255, using: &generator) })
        let path = try write(garbage, "garbage.dcm")
        assertError(.notDicom, path: path) { _ = try DicomReader.readHeader(path: path) }
    }

    func testTextFileIsNotDicom() throws {
        let path = try write(Data("patient report, not an image\n".utf8), "report.txt")
        assertError(.notDicom, path: path) { _ = try DicomReader.readHeader(path: path) }
    }

    func testGarbageAfterTheDicomMarkerIsCorruptOrTruncated() throws {
        var data = try realFile().prefix(132)
        data.append(Data(repeating: 0xEE, count: 3000))
        let path = try write(data, "garbage-after-marker.dcm")
        XCTAssertThrowsError(try DicomReader.decode(path: path)) { error in
            let error = error as? DicomError
            XCTAssertTrue([.corrupt, .truncated].contains(error?.kind), "\(String(describing: error))")
            XCTAssertEqual(error?.path, path)
        }
    }

    func testMissingFileIsNotFound() throws {
        let path = folder.appendingPathComponent("absent.dcm").path
        assertError(.notFound, path: path) { _ = try DicomReader.readHeader(path: path) }
    }

    func testNonImageObjectHasNoPixelDataToDecode() throws {
        let path = try PythonReference.testFile(named: "test-SR.dcm")
        assertError(.noPixelData, path: path) { _ = try DicomReader.decode(path: path) }
    }
}
