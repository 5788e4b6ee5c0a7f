import Foundation
import XCTest
@testable import Imaging

/// Read + decode + preprocess of two real series, ours against pydicom + numpy + scipy doing the same
/// steps. Runs only with RADFM_BENCH=1, in release: `RADFM_BENCH=1 swift test -c release --filter
/// ImagingBenchmarkTests`. Prints both timings and the ratio; fails if we are not faster.
final class ImagingBenchmarkTests: XCTestCase {
    /// Builds the 512x512 CT set (a real 512x512 CT slice from pydicom's data, written as 60 slices with
    /// shifted values and positions), then times the Python pipeline on a series folder given as argv[2].
    private static let pythonPipeline = PythonReference.imports + """
    import time, glob
    from scipy import ndimage
    def run(folder, size):
        start = time.perf_counter()
        slices = []
        for path in glob.glob(os.path.join(folder, "*")):
            ds = pydicom.dcmread(path)
            array = ds.pixel_array.astype(np.float32) * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
            orientation = np.array(ds.ImageOrientationPatient, dtype=np.float64)
            normal = np.cross(orientation[:3], orientation[3:])
            slices.append((float(np.dot(np.array(ds.ImagePositionPatient, dtype=np.float64), normal)), array))
        slices.sort(key=lambda item: item[0])
        volume = np.stack([array for _, array in slices], axis=-1)
        volume = (volume - volume.min()) / (volume.max() - volume.min())
        depth = min(range(4, 65, 4), key=lambda d: (abs(d - volume.shape[2]), d))
        factors = (size / volume.shape[0], size / volume.shape[1], depth / volume.shape[2])
        resized = ndimage.zoom(volume, factors, order=0)
        tensor = np.repeat(resized[np.newaxis], 3, axis=0)[np.newaxis].astype(np.float32)
        return time.perf_counter() - start, tensor.shape
    if sys.argv[1] == "make-ct":
        from pydicom.uid import generate_uid
        source = pydicom.dcmread(get_testdata_file("693_UNCR.dcm"))
        series = generate_uid()
        for k in range(60):
            ds = source.copy()
            ds.SOPInstanceUID = generate_uid(); ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.SeriesInstanceUID = series; ds.InstanceNumber = k + 1
            ds.ImagePositionPatient = [0, 0, 2.5 * k]; ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.PixelData = (ds.pixel_array.astype(np.int32) + k).clip(-32768, 32767).astype(ds.pixel_array.dtype).tobytes()
            ds.save_as(os.path.join(sys.argv[2], f"{k:03d}.dcm"), enforce_file_format=True)
        print(source.Rows, source.Columns)
    else:
        best = min(run(sys.argv[2], int(sys.argv[3]))[0] for _ in range(2))
        print(best)
    """

    private func pythonSeconds(_ folder: String, size: Int) throws -> Double {
        let output = try PythonReference.run(Self.pythonPipeline, arguments: ["time", folder, String(size)])
        return try XCTUnwrap(Double(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    private func ourSeconds(_ folder: URL, size: Int) throws -> Double {
        let builder = ModelInputBuilder(imageSize: size, maxImages: 1)
        var best = Double.infinity
        for _ in 0..<2 {
            let start = DispatchTime.now().uptimeNanoseconds
            let input = try builder.build(images: [folder])
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            XCTAssertEqual(input.shape.prefix(4), [1, 3, size, size])
        }
        return best
    }

    /// A benchmark that prints figures (opt-in); timings are reported, never asserted.
    func testBenchmarkReadDecodePreprocessAgainstPydicomNumpyScipy() throws {
        guard ProcessInfo.processInfo.environment["RADFM_BENCH"] == "1" else { throw XCTSkip("set RADFM_BENCH=1 to run") }
        let ch2 = try Ch2Reference.shared()
        let ctFolder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-ct-\(getpid())")
        try FileManager.default.createDirectory(at: ctFolder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: ctFolder) }
        let dimensions = try PythonReference.run(Self.pythonPipeline, arguments: ["make-ct", ctFolder.path])
        print("CT set: 60 slices of", String(decoding: dimensions, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))

        for (name, folder) in [("ch2 181-slice MR series", ch2.seriesFolder), ("60-slice 512x512 CT set", ctFolder)] {
            let ours = try ourSeconds(folder, size: 512)
            let python = try pythonSeconds(folder.path, size: 512)
            print(String(format: "%@: ours %.3f s, pydicom+numpy+scipy %.3f s, ratio %.1fx", name, ours, python, python / ours))
        }
    }
}
