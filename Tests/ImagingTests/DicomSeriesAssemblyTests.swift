import Foundation
import XCTest
@testable import Imaging

/// A real multi-slice series (ch2.nii.gz written slice by slice by pydicom) reassembled into its volume.
final class DicomSeriesAssemblyTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("series-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// A folder of links to the given files, so each test builds its own study without copying pixels.
    private func study(_ files: [String], named name: String) throws -> String {
        let folder = scratch.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (index, file) in files.enumerated() {
            try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("f\(index).dcm").path,
                                                       withDestinationPath: file)
        }
        return folder.path
    }

    func testShuffledRenamedSlicesReassembleInPositionOrder() throws {
        let reference = try Ch2Reference.shared()
        let inventory = DicomStudyScanner.scan(paths: [reference.seriesFolder.path])
        XCTAssertTrue(inventory.skipped.isEmpty, "\(inventory.skipped)")
        XCTAssertTrue(inventory.rejectedSeries.isEmpty, "\(inventory.rejectedSeries)")
        let stack = try XCTUnwrap(inventory.stacks.first)
        XCTAssertEqual(inventory.stacks.count, 1)
        XCTAssertEqual(stack.instances.map(\.path), reference.sliceFiles)
        XCTAssertEqual(stack.spacing, [1, 1, 1])

        let volume = try DicomVolumeLoader.load(stack)
        let expected = try NpyFile.read(path: reference.volumePath)
        XCTAssertEqual(expected.shape, [181, 181, 217])
        XCTAssertEqual([volume.depth, volume.rows, volume.columns, volume.channels], [181, 181, 217, 1])
        XCTAssertTrue(volume.isVolume)
        XCTAssertTrue(volume.data == expected.data, "voxels differ from the NIfTI volume")
    }

    func testMissingSliceIsRejectedAsGap() throws {
        let reference = try Ch2Reference.shared()
        var files = reference.sliceFiles
        files.remove(at: 100)
        let inventory = DicomStudyScanner.scan(paths: [try study(files, named: "gap")])
        XCTAssertTrue(inventory.stacks.isEmpty)
        XCTAssertEqual(inventory.rejectedSeries.map(\.kind), [.gap])
        XCTAssertTrue(inventory.rejectedSeries.first?.message.contains("slices missing") == true)
    }

    func testTwoSlicesAtOnePositionAreRejected() throws {
        let reference = try Ch2Reference.shared()
        let files = reference.sliceFiles + [reference.duplicateFile.path]
        let inventory = DicomStudyScanner.scan(paths: [try study(files, named: "duplicate")])
        XCTAssertEqual(inventory.rejectedSeries.map(\.kind), [.duplicatePositions])
    }

    func testNonImageObjectsAndBrokenFilesAreSkippedAndReported() throws {
        let reference = try Ch2Reference.shared()
        let report = try PythonReference.testFile(named: "test-SR.dcm")
        let broken = scratch.appendingPathComponent("broken.dcm")
        try Data("not dicom".utf8).write(to: broken)
        let inventory = DicomStudyScanner.scan(paths: [try study(reference.sliceFiles + [report, broken.path], named: "mixed")])
        XCTAssertEqual(inventory.stacks.count, 1)
        XCTAssertEqual(inventory.stacks[0].depth, 181)
        let reasons = Dictionary(uniqueKeysWithValues: inventory.skipped.map { (($0.path as NSString).lastPathComponent, $0.reason) })
        XCTAssertEqual(reasons.count, 2)
        XCTAssertTrue(reasons.values.contains("structured report object"), "\(reasons)")
        XCTAssertTrue(reasons.values.contains { $0.contains("[notDicom]") }, "\(reasons)")
    }

    func testMonochrome1RadiographIsInvertedWithinItsRange() throws {
        let path = try PythonReference.testFile(named: "RG1_UNCR.dcm")
        let stored = try DicomReader.decode(path: path).data
        let inventory = DicomStudyScanner.scan(paths: [path])
        let volume = try DicomVolumeLoader.load(try XCTUnwrap(inventory.stacks.first))
        XCTAssertFalse(volume.isVolume)
        let low = stored.min()!, high = stored.max()!
        XCTAssertEqual(volume.data.min(), low)
        XCTAssertEqual(volume.data.max(), high)
        XCTAssertEqual(volume.data[0], low + high - stored[0])
    }

    func testSelectionTakesLargestImagesFirstUpToTheLimit() throws {
        let reference = try Ch2Reference.shared()
        let small = try PythonReference.testFile(named: "CT_small.dcm")
        let folder = try study(reference.sliceFiles + [small], named: "two-series")
        let inventory = DicomStudyScanner.scan(paths: [folder])
        XCTAssertEqual(inventory.stacks.count, 2)
        XCTAssertEqual(SeriesSelectionPolicy(maxImages: 5).select(inventory.stacks).map(\.depth), [181, 1])
        XCTAssertEqual(SeriesSelectionPolicy(maxImages: 1).select(inventory.stacks).map(\.depth), [181])
        XCTAssertEqual(SeriesSelectionPolicy(maxImages: 5, modalities: ["CT"]).select(inventory.stacks).map(\.modality), ["CT"])
    }
}
