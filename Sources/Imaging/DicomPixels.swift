/// Every frame of one DICOM instance as float32 after rescale slope and intercept, laid out
/// [frames][rows][columns][channels]. Values are the stored ones (MONOCHROME1 not yet inverted), so they
/// equal pydicom's pixel_array after the modality rescale; YBR becomes RGB and PALETTE COLOR goes through
/// its lookup tables (pydicom's apply_color_lut).
public struct DicomPixels: Sendable {
    public let header: DicomHeader
    public let frames: Int
    public let rows: Int
    public let columns: Int
    public let channels: Int
    public var data: [Float]
}
