import Foundation
import XCTest
@testable import Imaging

/// RadFM's preprocessing against Pillow (2D bicubic), PyTorch's nearest formula (3D) and stack_images.
final class PreprocessingTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("preprocess-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Writes inputs and Pillow/numpy references into the test folder. Exit 3 (skip) without Pillow.
    private static let script = PythonReference.imports + """
    try:
        from PIL import Image
    except ImportError as error:
        print(error, file=sys.stderr); sys.exit(3)
    out, ct, us, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    ds = pydicom.dcmread(ct)
    a = ds.pixel_array.astype(np.float64) * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
    np.save(os.path.join(out, "ct.npy"), a.astype(np.float32))
    normalized = ((a - a.min()) / (a.max() - a.min())).astype(np.float32)
    resized = np.asarray(Image.fromarray(normalized, mode="F").resize((size, size), Image.BICUBIC))
    np.save(os.path.join(out, "ct_reference.npy"), resized.astype(np.float32))
    rgb = pydicom.dcmread(us).pixel_array
    Image.fromarray(rgb).save(os.path.join(out, "us.png"))
    picture = np.asarray(Image.open(os.path.join(out, "us.png")).convert("RGB").resize((size, size), Image.BICUBIC))
    np.save(os.path.join(out, "us_reference.npy"), (picture.astype(np.float32) / 255).transpose(2, 0, 1).copy())
    """

    private func references(size: Int) throws {
        let ct = try PythonReference.testFile(named: "CT_small.dcm")
        let us = try PythonReference.testFile(named: "US1_UNCR.dcm")
        _ = try PythonReference.run(Self.script, arguments: [folder.path, ct, us, String(size)])
    }

    private func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

    /// Asserts tensor[image, channel, :, :, slice] equals `expected` [H][W].
    private func assertPlane(_ tensor: [Float], shape: [Int], image: Int, channel: Int, slice: Int, equals expected: [Float],
                             accuracy: Float, line: UInt = #line) {
        let (h, w, d) = (shape[2], shape[3], shape[4])
        var worst: Float = 0
        for row in 0..<h {
            for column in 0..<w {
                let ours = tensor[((((image * 3 + channel) * h + row) * w + column) * d) + slice]
                worst = max(worst, abs(ours - expected[row * w + column]))
            }
        }
        XCTAssertLessThanOrEqual(worst, accuracy, "largest difference", line: line)
    }

    func testFloatPictureResizesLikePillowBicubicOnDownscale() throws {
        try references(size: 48)
        let input = try ModelInputBuilder(imageSize: 48, maxImages: 4).build(images: [file("ct.npy")])
        XCTAssertEqual(input.shape, [1, 3, 48, 48, 4])
        let expected = try NpyFile.read(path: file("ct_reference.npy").path).data
        for channel in 0..<3 {
            for slice in [0, 3] {
                assertPlane(input.tensor, shape: input.shape, image: 0, channel: channel, slice: slice, equals: expected, accuracy: 2e-6)
            }
        }
    }

    func testFloatPictureResizesLikePillowBicubicOnUpscale() throws {
        try references(size: 200)
        let input = try ModelInputBuilder(imageSize: 200, maxImages: 4).build(images: [file("ct.npy")])
        let expected = try NpyFile.read(path: file("ct_reference.npy").path).data
        assertPlane(input.tensor, shape: input.shape, image: 0, channel: 1, slice: 2, equals: expected, accuracy: 2e-6)
    }

    func testEightBitPngMatchesPillowByteForByte() throws {
        try references(size: 96)
        let input = try ModelInputBuilder(imageSize: 96, maxImages: 4).build(images: [file("us.png")])
        let expected = try NpyFile.read(path: file("us_reference.npy").path)
        XCTAssertEqual(expected.shape, [3, 96, 96])
        for channel in 0..<3 {
            let plane = Array(expected.data[(channel * 96 * 96)..<((channel + 1) * 96 * 96)])
            assertPlane(input.tensor, shape: input.shape, image: 0, channel: channel, slice: 1, equals: plane, accuracy: 0)
        }
    }

    func testVolumeUsesTorchNearestIndicesAndSampleDepth() throws {
        let image = try NiftiReader.read(path: Ch2Reference.niftiPath).volume(source: Ch2Reference.niftiPath)
        let preprocessor = RadFMPreprocessor(imageSize: 32)
        let tensor = preprocessor.tensor(for: [image])
        XCTAssertEqual(tensor.shape, [1, 3, 32, 32, 64])
        let low = image.data.min()!, high = image.data.max()!
        let rows = NearestIndex.table(inputSize: 181, outputSize: 32)
        XCTAssertEqual(rows.prefix(4), [0, 5, 11, 16], "floor(i * float(181 / 32))")
        let slices = NearestIndex.table(inputSize: 181, outputSize: 64)
        let columns = NearestIndex.table(inputSize: 217, outputSize: 32)
        for (h, w, d) in [(0, 0, 0), (16, 20, 31), (31, 31, 63), (7, 25, 40)] {
            let source = image.data[(slices[d] * 181 + rows[h]) * 217 + columns[w]]
            let expected = (source - low) / (high - low)
            for channel in 0..<3 {
                XCTAssertEqual(tensor.data[(((channel * 32 + h) * 32 + w) * 64) + d], expected, accuracy: 1e-6)
            }
        }
    }

    func testSampleDepthIsTheNearestMultipleOfFourWithTiesToTheSmaller() {
        func volume(depth: Int) -> ImageVolume {
            ImageVolume(depth: depth, rows: 1, columns: 1, channels: 1, data: [Float](repeating: 0, count: depth), isVolume: depth > 1,
                        scaling: .minMax, spacing: nil, source: "test")
        }
        XCTAssertEqual(RadFMPreprocessor.sampleDepth(for: [volume(depth: 1)]), 4)
        XCTAssertEqual(RadFMPreprocessor.sampleDepth(for: [volume(depth: 6)]), 4)
        XCTAssertEqual(RadFMPreprocessor.sampleDepth(for: [volume(depth: 30)]), 28)
        XCTAssertEqual(RadFMPreprocessor.sampleDepth(for: [volume(depth: 31)]), 32)
        XCTAssertEqual(RadFMPreprocessor.sampleDepth(for: [volume(depth: 181), volume(depth: 10)]), 64)
        XCTAssertEqual(RadFMPreprocessor.sampleDepth(for: [volume(depth: 1), volume(depth: 17)]), 16)
    }

    func testPictureIsRepeatedToTheSampleDepthBesideAVolume() throws {
        try references(size: 16)
        let input = try ModelInputBuilder(imageSize: 16, maxImages: 4)
            .build(images: [file("ct.npy"), URL(fileURLWithPath: Ch2Reference.niftiPath)])
        XCTAssertEqual(input.shape, [2, 3, 16, 16, 64])
        let firstPixel = Array(input.tensor[0..<64])
        XCTAssertEqual(Set(firstPixel).count, 1, "a 2D picture is the same at every depth")
    }

    func testDicomSeriesAndItsNiftiGiveTheSameTensor() throws {
        let reference = try Ch2Reference.shared()
        let builder = ModelInputBuilder(imageSize: 24, maxImages: 2)
        let fromDicom = try builder.build(images: [reference.seriesFolder])
        let fromNifti = try builder.build(images: [URL(fileURLWithPath: Ch2Reference.niftiPath)])
        XCTAssertEqual(fromDicom.shape, fromNifti.shape)
        let worst = zip(fromDicom.tensor, fromNifti.tensor).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-6)
    }

    func testTooManyImagesForOneSampleIsRefused() throws {
        let builder = ModelInputBuilder(imageSize: 8, maxImages: 1)
        let nifti = URL(fileURLWithPath: Ch2Reference.niftiPath)
        XCTAssertThrowsError(try builder.build(images: [nifti, nifti])) { error in
            XCTAssertEqual((error as? ImageFileError)?.kind, .limitExceeded)
        }
    }
}
