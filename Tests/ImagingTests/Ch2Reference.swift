import Foundation
import XCTest

/// The ch2.nii.gz template (181 x 217 x 181, Debian mricron-data), parsed independently with numpy, and
/// written by pydicom as a real MR series: one file per axial slice k, ImagePositionPatient (0, 0, -k)
/// with orientation rows along x and columns along y (slice normal (0, 0, -1)), so the position along
/// the normal increases with k. Stored values are the template's; RescaleSlope 2, RescaleIntercept -10.
/// Files get random names and are written in shuffled order.
struct Ch2Reference {
    static let niftiPath = "/usr/share/mricron/templates/ch2.nii.gz"
    static let slope: Float = 2
    static let intercept: Float = -10

    let folder: URL
    /// The shuffled, renamed series.
    var seriesFolder: URL { folder.appendingPathComponent("series") }
    /// One extra slice with a new SOPInstanceUID at slice 90's position.
    var duplicateFile: URL { folder.appendingPathComponent("duplicate/extra.dcm") }
    /// The file holding slice k.
    let sliceFiles: [String]
    /// [z][x][y] after rescale, float32.
    var volumePath: String { folder.appendingPathComponent("volume.npy").path }
    /// [x][y][z] as stored in the NIfTI file, float32.
    var niftiArrayPath: String { folder.appendingPathComponent("nifti.npy").path }

    private static let script = PythonReference.imports + """
    import gzip, struct, uuid, random
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    out = sys.argv[1]
    raw = gzip.open(sys.argv[2]).read()
    dims = struct.unpack("<8h", raw[40:56]); datatype = struct.unpack("<h", raw[70:72])[0]
    offset = int(struct.unpack("<f", raw[108:112])[0])
    assert datatype == 2, datatype
    nx, ny, nz = dims[1:4]
    data = np.frombuffer(raw, dtype=np.uint8, count=nx*ny*nz, offset=offset).reshape((nz, ny, nx)).transpose(2, 1, 0)
    np.save(os.path.join(out, "nifti.npy"), np.ascontiguousarray(data).astype(np.float32))
    volume = np.ascontiguousarray(data.transpose(2, 0, 1)).astype(np.float32) * 2 - 10
    np.save(os.path.join(out, "volume.npy"), volume)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    def slice_dataset(k, uid):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
        meta.MediaStorageSOPInstanceUID = uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset(); ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID; ds.SOPInstanceUID = uid
        ds.StudyInstanceUID = study; ds.SeriesInstanceUID = series; ds.FrameOfReferenceUID = frame
        ds.Modality = "MR"; ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [0, 0, -k]; ds.ImageOrientationPatient = [0, 1, 0, 1, 0, 0]
        ds.PixelSpacing = [1, 1]; ds.SliceThickness = 1
        ds.SamplesPerPixel = 1; ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = nx; ds.Columns = ny; ds.BitsAllocated = 16; ds.BitsStored = 16; ds.HighBit = 15
        ds.PixelRepresentation = 0; ds.RescaleSlope = 2; ds.RescaleIntercept = -10
        ds.PixelData = np.ascontiguousarray(data[:, :, k]).astype(np.uint16).tobytes()
        return ds
    os.makedirs(os.path.join(out, "series")); os.makedirs(os.path.join(out, "duplicate"))
    order = list(range(nz)); random.Random(7).shuffle(order)
    names = {}
    for k in order:
        name = os.path.join(out, "series", uuid.uuid4().hex + ".dcm")
        slice_dataset(k, generate_uid()).save_as(name, enforce_file_format=True)
        names[k] = name
    slice_dataset(90, generate_uid()).save_as(os.path.join(out, "duplicate", "extra.dcm"), enforce_file_format=True)
    json.dump([names[k] for k in range(nz)], sys.stdout)
    """

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: Ch2Reference?

    static func shared() throws -> Ch2Reference {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        guard FileManager.default.fileExists(atPath: niftiPath) else {
            try PythonReference.unavailable("\(niftiPath) missing (Debian package mricron-data)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ch2-series-\(getpid())")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let output = try PythonReference.run(script, arguments: [folder.path, niftiPath])
        let files = try JSONDecoder().decode([String].self, from: output)
        let reference = Ch2Reference(folder: folder, sliceFiles: files)
        cached = reference
        return reference
    }
}
