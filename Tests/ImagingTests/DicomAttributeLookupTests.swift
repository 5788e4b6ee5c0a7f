import Foundation
import XCTest
@testable import Imaging

/// Attribute lookups go through an index of the data set's top-level elements. Decoding through a
/// DCMTK codec may replace elements, so lookups after decoding must still give the same answers.
final class DicomAttributeLookupTests: XCTestCase {
    func testHeaderReadAgainAfterCodecDecodingEqualsTheFirstRead() throws {
        for name in ["SC_rgb_jpeg_dcmtk.dcm", "JPEG-lossy.dcm", "CT_small.dcm"] {
            let path = try PythonReference.testFile(named: name)
            let file = try DicomFile(path: path, limits: .default)
            let first = try DicomHeader(file: file)
            try file.checkPixelData()
            var frame = [Float](repeating: 0, count: first.rows * first.columns * file.outputChannels)
            try frame.withUnsafeMutableBufferPointer { output in
                try file.decodeFrame(0, slope: first.rescaleSlope, intercept: first.rescaleIntercept, into: output)
            }
            let again = try DicomHeader(file: file)
            XCTAssertEqual(again.sopInstanceUID, first.sopInstanceUID, name)
            XCTAssertEqual(again.studyInstanceUID, first.studyInstanceUID, name)
            XCTAssertEqual(again.seriesInstanceUID, first.seriesInstanceUID, name)
            XCTAssertEqual(again.photometricInterpretation, first.photometricInterpretation, name)
            XCTAssertEqual(again.rows, first.rows, name)
            XCTAssertEqual(again.columns, first.columns, name)
            XCTAssertEqual(again.bitsStored, first.bitsStored, name)
            XCTAssertEqual(again.imagePositionPatient, first.imagePositionPatient, name)
            XCTAssertEqual(again.pixelSpacing, first.pixelSpacing, name)
            XCTAssertEqual(again.rescaleIntercept, first.rescaleIntercept, name)
        }
    }

    func testAttributeAbsentAtTheTopLevelIsMissingThereAndFoundByTheNestedSearch() throws {
        // An enhanced CT object keeps PixelSpacing only inside its functional group sequences.
        let path = try PythonReference.testFile(named: "eCT_Supplemental.dcm")
        let file = try DicomFile(path: path, limits: .default)
        let topLevel = file.numbers(.pixelSpacing, count: 2)
        let nested = file.numbers(.pixelSpacing, count: 2, nested: true)
        XCTAssertNil(topLevel)
        XCTAssertNotNil(nested)
    }
}
