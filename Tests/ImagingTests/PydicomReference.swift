import Foundation
import XCTest

/// pydicom's reading of every DICOM file in its test set (pydicom and pydicom-data): header fields,
/// and the pixel array (after rescale for grey images, through the palette for PALETTE COLOR) written as
/// float64 .npy, for comparison with our decoding.
struct PydicomFileReference: Decodable {
    let path: String
    let readError: String?
    let sopClassUID: String?
    let sopInstanceUID: String?
    let studyInstanceUID: String?
    let seriesInstanceUID: String?
    let modality: String?
    let transferSyntaxUID: String?
    let rows: Int?
    let columns: Int?
    let frames: Int?
    let samplesPerPixel: Int?
    let photometricInterpretation: String?
    let bitsAllocated: Int?
    let bitsStored: Int?
    let pixelRepresentation: Int?
    let rescaleSlope: Double?
    let rescaleIntercept: Double?
    let imagePositionPatient: [Double]?
    let imageOrientationPatient: [Double]?
    let pixelSpacing: [Double]?
    let instanceNumber: Int?
    let pixels: String?
    let pixelError: String?

    var name: String { (path as NSString).lastPathComponent }
}

enum PydicomReference {
    private static let script = PythonReference.imports + """
    out = sys.argv[1]
    paths = sorted(set(p for p in get_testdata_files("*") if os.path.isfile(p) and not p.endswith((".py", ".pyc", ".json", ".txt", ".gz", ".bz2", ".zip"))))
    def nested(ds, tag):
        if tag in ds:
            return ds[tag].value
        for element in ds.iterall():
            if element.tag == tag:
                return element.value
        return None
    def floats(value, n):
        if value is None: return None
        try:
            values = [float(v) for v in (value if isinstance(value, (list, tuple)) or hasattr(value, "__len__") and not isinstance(value, str) else [value])]
        except Exception:
            return None
        return values if len(values) == n else None
    rows = []
    for index, path in enumerate(paths):
        entry = {"path": path}
        try:
            ds = pydicom.dcmread(path)
        except Exception as error:
            entry["readError"] = f"{type(error).__name__}: {error}"
            rows.append(entry); continue
        def get(name, cast=str):
            value = ds.get(name)
            if value is None or value == "": return None
            try: return cast(value)
            except Exception: return None
        entry.update(sopClassUID=get("SOPClassUID"), sopInstanceUID=get("SOPInstanceUID"),
            studyInstanceUID=get("StudyInstanceUID"), seriesInstanceUID=get("SeriesInstanceUID"),
            modality=get("Modality"), rows=get("Rows", int), columns=get("Columns", int),
            frames=get("NumberOfFrames", int), samplesPerPixel=get("SamplesPerPixel", int),
            photometricInterpretation=get("PhotometricInterpretation"), bitsAllocated=get("BitsAllocated", int),
            bitsStored=get("BitsStored", int), pixelRepresentation=get("PixelRepresentation", int),
            instanceNumber=get("InstanceNumber", int))
        entry["transferSyntaxUID"] = str(ds.file_meta.TransferSyntaxUID) if "TransferSyntaxUID" in ds.file_meta else None
        slope, intercept = nested(ds, 0x00281053), nested(ds, 0x00281052)
        entry["rescaleSlope"] = float(slope) if slope not in (None, "") else 1.0
        entry["rescaleIntercept"] = float(intercept) if intercept not in (None, "") else 0.0
        entry["imagePositionPatient"] = floats(nested(ds, 0x00200032), 3)
        entry["imageOrientationPatient"] = floats(nested(ds, 0x00200037), 6)
        entry["pixelSpacing"] = floats(nested(ds, 0x00280030), 2)
        if "PixelData" in ds:
            try:
                array = ds.pixel_array.astype(np.float64)
                if entry["photometricInterpretation"] == "PALETTE COLOR":
                    from pydicom.pixels import apply_color_lut
                    array = apply_color_lut(ds.pixel_array, ds).astype(np.float64)
                elif (entry["samplesPerPixel"] or 1) == 1:
                    array = array * entry["rescaleSlope"] + entry["rescaleIntercept"]
                target = os.path.join(out, f"{index}.npy")
                np.save(target, array)
                entry["pixels"] = target
            except Exception as error:
                entry["pixelError"] = f"{type(error).__name__}: {error}"
        rows.append(entry)
    json.dump(rows, sys.stdout)
    """

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: [PydicomFileReference]?

    nonisolated(unsafe) private static var folder: URL?

    /// Computed once per test process; the .npy files (1.4 GB) live in a temporary folder that is
    /// removed when the process exits.
    static func all() throws -> [PydicomFileReference] {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pydicom-reference-\(getpid())")
        if Self.folder == nil {
            Self.folder = folder
            atexit { if let folder = PydicomReference.folder { try? FileManager.default.removeItem(at: folder) } }
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let data = try PythonReference.run(script, arguments: [folder.path])
        let references = try JSONDecoder().decode([PydicomFileReference].self, from: data)
        cached = references
        return references
    }

    static func file(named name: String) throws -> PydicomFileReference {
        guard let reference = try all().first(where: { $0.name == name }) else {
            try PythonReference.unavailable("\(name) is not in pydicom's test files")
        }
        return reference
    }
}
