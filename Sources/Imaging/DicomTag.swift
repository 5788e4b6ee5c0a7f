/// A DICOM attribute tag (group, element).
struct DicomTag: Sendable {
    let group: UInt16
    let element: UInt16

    static let sopClassUID = DicomTag(group: 0x0008, element: 0x0016)
    static let sopInstanceUID = DicomTag(group: 0x0008, element: 0x0018)
    static let accessionNumber = DicomTag(group: 0x0008, element: 0x0050)
    static let modality = DicomTag(group: 0x0008, element: 0x0060)
    static let sliceThickness = DicomTag(group: 0x0018, element: 0x0050)
    static let studyInstanceUID = DicomTag(group: 0x0020, element: 0x000D)
    static let seriesInstanceUID = DicomTag(group: 0x0020, element: 0x000E)
    static let instanceNumber = DicomTag(group: 0x0020, element: 0x0013)
    static let imagePositionPatient = DicomTag(group: 0x0020, element: 0x0032)
    static let imageOrientationPatient = DicomTag(group: 0x0020, element: 0x0037)
    static let samplesPerPixel = DicomTag(group: 0x0028, element: 0x0002)
    static let photometricInterpretation = DicomTag(group: 0x0028, element: 0x0004)
    static let numberOfFrames = DicomTag(group: 0x0028, element: 0x0008)
    static let rows = DicomTag(group: 0x0028, element: 0x0010)
    static let columns = DicomTag(group: 0x0028, element: 0x0011)
    static let pixelSpacing = DicomTag(group: 0x0028, element: 0x0030)
    static let bitsAllocated = DicomTag(group: 0x0028, element: 0x0100)
    static let bitsStored = DicomTag(group: 0x0028, element: 0x0101)
    static let pixelRepresentation = DicomTag(group: 0x0028, element: 0x0103)
    static let rescaleIntercept = DicomTag(group: 0x0028, element: 0x1052)
    static let rescaleSlope = DicomTag(group: 0x0028, element: 0x1053)
}
