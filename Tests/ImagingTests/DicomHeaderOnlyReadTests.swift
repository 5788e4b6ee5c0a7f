import Foundation
import XCTest
@testable import Imaging

/// `DicomReader.readHeader` parses only the attributes a header holds and the public sequences (the
/// file is cut down by a scan of element headers, pixel values unread) yet answers exactly as a full
/// DCMTK parse does.
final class DicomHeaderOnlyReadTests: XCTestCase {
    /// Every field the pipeline reads, plus what the pixel-data check concluded, as one comparable text.
    private func summary(_ file: DicomFile) -> String {
        let header: String
        do { header = String(describing: try DicomHeader(file: file)) } catch { header = "header error \(error)" }
        var pixelCheck = "ok"
        do { try file.checkPixelData() } catch let error as DicomError { pixelCheck = "\(error.kind)" } catch { pixelCheck = "\(error)" }
        return "\(header) | has pixel data \(file.hasPixelData) | check \(pixelCheck) | syntax \(file.transferSyntaxUID)"
    }

    func testHeaderOnlyReadEqualsTheFullReadForEveryTestFile() throws {
        let paths = try PydicomReference.all().map(\.path)
        XCTAssertGreaterThan(paths.count, 100)
        var compared = 0
        var mismatches: [String] = []
        for path in paths {
            let full: DicomFile, headerOnly: DicomFile
            do {
                full = try DicomFile(path: path, limits: .default)
            } catch let error as DicomError {
                // A file DCMTK cannot parse must fail the same way when only its header is wanted.
                XCTAssertThrowsError(try DicomFile(path: path, limits: .default, headerAttributes: DicomHeader.attributes), path) { other in
                    XCTAssertEqual((other as? DicomError)?.kind, error.kind, path)
                }
                continue
            }
            headerOnly = try DicomFile(path: path, limits: .default, headerAttributes: DicomHeader.attributes)
            let expected = summary(full), actual = summary(headerOnly)
            if expected != actual { mismatches.append("\(path):\n  full   \(expected)\n  header \(actual)") }
            compared += 1
        }
        XCTAssertGreaterThan(compared, 100)
        XCTAssertTrue(mismatches.isEmpty, mismatches.joined(separator: "\n"))
    }

    func testHeaderOnlyReadLeavesPrivateAndUnwantedElementsUnparsed() throws {
        // CT_small.dcm carries GE private groups, e.g. (0043,104E), and public attributes no header
        // field needs, e.g. (0008,0070) Manufacturer.
        let path = try PythonReference.testFile(named: "CT_small.dcm")
        let privateTag = DicomTag(group: 0x0043, element: 0x104E), manufacturer = DicomTag(group: 0x0008, element: 0x0070)
        let full = try DicomFile(path: path, limits: .default)
        XCTAssertNotNil(full.string(privateTag))
        XCTAssertNotNil(full.string(manufacturer))
        let headerOnly = try DicomFile(path: path, limits: .default, headerAttributes: DicomHeader.attributes)
        XCTAssertNil(headerOnly.string(privateTag))
        XCTAssertNil(headerOnly.string(manufacturer))
        XCTAssertEqual(headerOnly.string(.studyInstanceUID), "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322")
        XCTAssertTrue(headerOnly.hasPixelData)
    }

    func testHeaderOnlyHandleRefusesToDecodeFrames() throws {
        let path = try PythonReference.testFile(named: "CT_small.dcm")
        let file = try DicomFile(path: path, limits: .default, headerAttributes: DicomHeader.attributes)
        var pixels = [Float](repeating: 0, count: 128 * 128)
        XCTAssertThrowsError(try pixels.withUnsafeMutableBufferPointer { try file.decodeFrame(0, slope: 1, intercept: 0, into: $0) }) { error in
            XCTAssertEqual((error as? DicomError)?.kind, .io)
            XCTAssertTrue("\(error)".contains("header only"), "\(error)")
        }
    }

    func testHeaderReadOfAFileCutInsideThePixelDataIsTruncated() throws {
        let source = try Data(contentsOf: URL(fileURLWithPath: try PythonReference.testFile(named: "CT_small.dcm")))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("header-only-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("cut.dcm").path
        try source.prefix(source.count - 5000).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try DicomReader.readHeader(path: path)) { error in
            XCTAssertEqual((error as? DicomError)?.kind, .truncated, "\(error)")
        }
    }
}
