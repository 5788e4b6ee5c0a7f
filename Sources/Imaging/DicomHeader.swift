/// The attributes of one DICOM instance that series assembly and preprocessing need.
public struct DicomHeader: Sendable {
    public let path: String
    public let sopClassUID: String
    public let sopInstanceUID: String
    public let studyInstanceUID: String
    public let seriesInstanceUID: String
    public let modality: String
    public let accessionNumber: String?
    public let transferSyntaxUID: String
    public let rows: Int
    public let columns: Int
    public let frames: Int
    public let samplesPerPixel: Int
    public let photometricInterpretation: String
    public let bitsAllocated: Int
    public let bitsStored: Int
    public let pixelRepresentation: Int
    public let imagePositionPatient: [Double]?
    public let imageOrientationPatient: [Double]?
    public let pixelSpacing: [Double]?
    public let sliceThickness: Double?
    public let rescaleSlope: Double
    public let rescaleIntercept: Double
    public let instanceNumber: Int?
    public let hasPixelData: Bool

    /// Why this object is not an image the model can read, or nil when it is one.
    public var nonImageReason: String? {
        if let kind = NonImageObject.kind(sopClassUID: sopClassUID, modality: modality) { return "\(kind) object" }
        if !hasPixelData { return "no pixel data" }
        if rows <= 0 || columns <= 0 { return "image is \(rows)x\(columns)" }
        return nil
    }

    /// Has pixel data with a real size and is not SR, PR, SEG, RT, waveform, DICOMDIR or similar.
    public var isImage: Bool { nonImageReason == nil }

    /// Decoded channels: 3 for colour (PALETTE COLOR included), 1 otherwise.
    public var channels: Int { samplesPerPixel == 3 || photometricInterpretation == "PALETTE COLOR" ? 3 : 1 }
}

extension DicomHeader {
    /// Every attribute `init(file:)` reads: a header read parses only these (and the sequences a
    /// nested lookup searches).
    static let attributes: [DicomTag] = [
        .sopClassUID, .sopInstanceUID, .studyInstanceUID, .seriesInstanceUID, .modality, .accessionNumber, .rows, .columns,
        .numberOfFrames, .samplesPerPixel, .photometricInterpretation, .bitsAllocated, .bitsStored, .pixelRepresentation,
        .imagePositionPatient, .imageOrientationPatient, .pixelSpacing, .sliceThickness, .rescaleSlope, .rescaleIntercept,
        .instanceNumber,
    ]

    /// Reads the header from a parsed file; the four identifying UIDs are required.
    init(file: DicomFile) throws {
        func required(_ tag: DicomTag, _ name: String) throws -> String {
            guard let value = file.string(tag) else {
                throw DicomError(kind: .corrupt, path: file.path, message: "required \(name) is missing")
            }
            return value
        }
        func integer(_ tag: DicomTag) -> Int? { file.number(tag).map { Int($0) } }

        path = file.path
        sopClassUID = try required(.sopClassUID, "SOPClassUID")
        sopInstanceUID = try required(.sopInstanceUID, "SOPInstanceUID")
        studyInstanceUID = try required(.studyInstanceUID, "StudyInstanceUID")
        seriesInstanceUID = try required(.seriesInstanceUID, "SeriesInstanceUID")
        modality = file.string(.modality) ?? "OT"
        accessionNumber = file.string(.accessionNumber)
        transferSyntaxUID = file.transferSyntaxUID
        rows = integer(.rows) ?? 0
        columns = integer(.columns) ?? 0
        frames = max(1, integer(.numberOfFrames) ?? 1)
        samplesPerPixel = integer(.samplesPerPixel) ?? 1
        photometricInterpretation = file.string(.photometricInterpretation) ?? "MONOCHROME2"
        bitsAllocated = integer(.bitsAllocated) ?? 0
        bitsStored = integer(.bitsStored) ?? bitsAllocated
        pixelRepresentation = integer(.pixelRepresentation) ?? 0
        // Enhanced multi-frame objects keep geometry and rescale in functional group sequences; the
        // nested search finds the shared group (or the first frame's) when the top level has none.
        imagePositionPatient = file.numbers(.imagePositionPatient, count: 3)
            ?? file.numbers(.imagePositionPatient, count: 3, nested: true)
        imageOrientationPatient = file.numbers(.imageOrientationPatient, count: 6)
            ?? file.numbers(.imageOrientationPatient, count: 6, nested: true)
        pixelSpacing = file.numbers(.pixelSpacing, count: 2) ?? file.numbers(.pixelSpacing, count: 2, nested: true)
        sliceThickness = file.number(.sliceThickness) ?? file.number(.sliceThickness, nested: true)
        rescaleSlope = file.number(.rescaleSlope) ?? file.number(.rescaleSlope, nested: true) ?? 1
        rescaleIntercept = file.number(.rescaleIntercept) ?? file.number(.rescaleIntercept, nested: true) ?? 0
        instanceNumber = integer(.instanceNumber)
        hasPixelData = file.hasPixelData
    }
}
