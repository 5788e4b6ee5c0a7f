import Foundation
import XCTest
@testable import Imaging

/// Header fields read through DCMTK equal pydicom's reading of the same real files.
final class DicomHeaderTests: XCTestCase {
    func testHeaderFieldsEqualPydicomsForEveryTestFile() throws {
        let references = try PydicomReference.all().filter {
            $0.readError == nil && $0.sopInstanceUID != nil && $0.studyInstanceUID != nil && $0.seriesInstanceUID != nil
                && $0.sopClassUID != nil && $0.name != "SC_rgb_jpeg.dcm"
        }
        XCTAssertGreaterThan(references.count, 100)
        var mismatches: [String] = []
        for reference in references {
            let header: DicomHeader
            do {
                header = try DicomReader.readHeader(path: reference.path, limits: .default)
            } catch let error as DicomError where [.corrupt, .truncated, .limitExceeded].contains(error.kind) {
                // pydicom reads headers of files whose pixel data is cut or inconsistent; DCMTK refuses them (pinned elsewhere).
                continue
            }
            func check<T: Equatable>(_ field: String, _ ours: T?, _ theirs: T?) {
                if ours != theirs { mismatches.append("\(reference.name) \(field): ours \(String(describing: ours)), pydicom \(String(describing: theirs))") }
            }
            check("SOPClassUID", header.sopClassUID, reference.sopClassUID)
            check("SOPInstanceUID", header.sopInstanceUID, reference.sopInstanceUID)
            check("StudyInstanceUID", header.studyInstanceUID, reference.studyInstanceUID)
            check("SeriesInstanceUID", header.seriesInstanceUID, reference.seriesInstanceUID)
            check("Modality", header.modality, reference.modality ?? "OT")
            if let syntax = reference.transferSyntaxUID { check("TransferSyntaxUID", header.transferSyntaxUID, syntax) }
            guard reference.rows != nil else { continue }
            check("Rows", header.rows, reference.rows)
            check("Columns", header.columns, reference.columns)
            check("NumberOfFrames", header.frames, reference.frames ?? 1)
            check("SamplesPerPixel", header.samplesPerPixel, reference.samplesPerPixel ?? 1)
            check("PhotometricInterpretation", header.photometricInterpretation, reference.photometricInterpretation ?? "MONOCHROME2")
            check("BitsAllocated", header.bitsAllocated, reference.bitsAllocated)
            check("BitsStored", header.bitsStored, reference.bitsStored ?? reference.bitsAllocated)
            check("PixelRepresentation", header.pixelRepresentation, reference.pixelRepresentation ?? 0)
            check("RescaleSlope", header.rescaleSlope, reference.rescaleSlope)
            check("RescaleIntercept", header.rescaleIntercept, reference.rescaleIntercept)
            check("ImagePositionPatient", header.imagePositionPatient, reference.imagePositionPatient)
            check("ImageOrientationPatient", header.imageOrientationPatient, reference.imageOrientationPatient)
            check("PixelSpacing", header.pixelSpacing, reference.pixelSpacing)
            check("InstanceNumber", header.instanceNumber, reference.instanceNumber)
        }
        XCTAssertTrue(mismatches.isEmpty, mismatches.joined(separator: "\n"))
    }

    func testStructuredReportIsReadButIsNotAnImage() throws {
        let reference = try PydicomReference.file(named: "test-SR.dcm")
        let header = try DicomReader.readHeader(path: reference.path)
        XCTAssertFalse(header.isImage)
        XCTAssertEqual(header.nonImageReason, "structured report object")
    }

    func testMultiFrameDecodesEveryFrameInOrder() throws {
        let reference = try PydicomReference.file(named: "emri_small.dcm")
        let pixels = try DicomReader.decode(path: reference.path)
        XCTAssertEqual(pixels.frames, 10)
        XCTAssertEqual(pixels.data.count, 10 * pixels.rows * pixels.columns)
        let expected = try NpyFile.read(path: try XCTUnwrap(reference.pixels))
        XCTAssertEqual(expected.shape, [10, pixels.rows, pixels.columns])
        XCTAssertEqual(pixels.data, expected.data)
    }

    func testMonochrome1IsDecodedAsStoredAndFlaggedForInversion() throws {
        let reference = try PydicomReference.file(named: "RG1_UNCR.dcm")
        let pixels = try DicomReader.decode(path: reference.path)
        XCTAssertEqual(pixels.header.photometricInterpretation, "MONOCHROME1")
        XCTAssertEqual(pixels.data, try NpyFile.read(path: try XCTUnwrap(reference.pixels)).data)
    }
}
