import Foundation
import XCTest
@testable import Imaging

/// Our decoding of every file in pydicom's and pydicom-data's test sets, compared with pydicom's.
final class DicomDecodingParityTests: XCTestCase {
    /// Lossy syntaxes decoded by a different library than pydicom's plugin (DCMTK's IJG code against
    /// libjpeg): IDCT rounding and chroma upsampling filters may differ by a few grey levels.
    private static let lossyTolerance: [String: Float] = [
        "1.2.840.10008.1.2.4.50": 5, "1.2.840.10008.1.2.4.51": 5,
    ]

    /// Files pydicom decodes that we refuse, each for a stated reason; the refusal itself is checked.
    private static let expectedRefusals: [String: (kind: DicomError.Kind, reason: String)] = [
        // Its meta header declares explicit VR but the data set is written implicit VR; pydicom guesses,
        // DCMTK stops parsing.
        "SC_rgb_jpeg.dcm": (.truncated, "data set encoded unlike its declared transfer syntax"),
        // Segmented palette colour tables are not expanded (ultrasound from one vendor).
        "gdcm-US-ALOKA-16.dcm": (.unsupportedTransferSyntax, "segmented palette"),
        "gdcm-US-ALOKA-16_big.dcm": (.unsupportedTransferSyntax, "segmented palette"),
    ]

    /// Big-endian palette tables: pydicom reads the table words as little endian whatever the transfer
    /// syntax, DCMTK in the file's byte order, so every entry differs by a byte swap (x * 256 here).
    /// The comparison then checks that the two agree up to that constant factor, which min-max scaling
    /// removes before the model sees the image.
    private static let byteSwappedPalettes: Set<String> = ["OBXXXX1A_expb.dcm", "OBXXXX1A_expb_2frame.dcm"]

    func testEveryPydicomTestImageDecodesToPydicomsValues() throws {
        let references = try PydicomReference.all().filter { $0.pixels != nil }
        XCTAssertGreaterThan(references.count, 100, "pydicom and pydicom-data should provide over 100 decodable files")
        var failures: [String] = []
        var compared = 0
        for reference in references {
            guard let pixelsPath = reference.pixels else { continue }
            if let refusal = Self.expectedRefusals[reference.name] {
                XCTAssertThrowsError(try DicomReader.decode(path: reference.path), refusal.reason) { error in
                    XCTAssertEqual((error as? DicomError)?.kind, refusal.kind)
                    XCTAssertEqual((error as? DicomError)?.path, reference.path)
                }
                continue
            }
            if reference.studyInstanceUID == nil || reference.seriesInstanceUID == nil || reference.sopInstanceUID == nil {
                // Type 1 identifiers missing: the file cannot belong to a study, so it is refused as corrupt.
                XCTAssertThrowsError(try DicomReader.readHeader(path: reference.path)) { error in
                    XCTAssertEqual((error as? DicomError)?.kind, .corrupt)
                    XCTAssertTrue("\(error)".contains("UID is missing"), "\(error)")
                }
                continue
            }
            let header: DicomHeader
            do {
                header = try DicomReader.readHeader(path: reference.path)
            } catch {
                failures.append("\(reference.name): header: \(error)")
                continue
            }
            guard header.isImage else { continue }
            let pixels: DicomPixels
            do {
                pixels = try DicomReader.decode(path: reference.path)
            } catch {
                failures.append("\(reference.name): decode: \(error)")
                continue
            }
            let expected = try NpyFile.read(path: pixelsPath)
            let expectedCount = expected.data.count
            guard pixels.data.count == expectedCount else {
                failures.append("\(reference.name): \(pixels.data.count) values, pydicom has \(expected.shape)")
                continue
            }
            let tolerance = Self.lossyTolerance[header.transferSyntaxUID] ?? 0
            let ours = Self.byteSwappedPalettes.contains(reference.name) ? pixels.data.map { $0 / 256 } : pixels.data
            let (worst, worstIndex) = largestDifference(ours, expected.data)
            if worst > tolerance {
                failures.append("\(reference.name) [\(header.transferSyntaxUID) \(header.photometricInterpretation)]: "
                    + "max difference \(worst) at \(worstIndex) (ours \(ours[worstIndex]), pydicom \(expected.data[worstIndex]))")
            }
            compared += 1
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(references.count) files differ:\n" + failures.joined(separator: "\n"))
        XCTAssertGreaterThan(compared, 100)
    }

    private func largestDifference(_ ours: [Float], _ theirs: [Float]) -> (Float, Int) {
        ours.withUnsafeBufferPointer { a in
            theirs.withUnsafeBufferPointer { b in
                var worst: Float = 0, worstIndex = 0
                for index in 0..<a.count where abs(a[index] - b[index]) > worst {
                    worst = abs(a[index] - b[index])
                    worstIndex = index
                }
                return (worst, worstIndex)
            }
        }
    }
}
