/// One image as the model's preprocessing receives it: a 2D picture or a 3D volume, laid out
/// [depth][rows][columns][channels], brighter meaning denser (MONOCHROME1 already inverted).
public struct ImageVolume: Sendable {
    /// How values map to [0, 1] in RadFM's preprocessing.
    public enum IntensityScaling: Sendable, Equatable {
        /// Minimum to 0 and maximum to 1 over the whole image or volume (DICOM, NIfTI, NPY).
        case minMax
        /// Divide by a fixed maximum (255 for 8-bit PNG and JPEG pictures).
        case divideBy(Float)
        /// Already in [0, 1] and in the model's layout (a preprocessed .npy tensor).
        case none
    }

    public let depth: Int
    public let rows: Int
    public let columns: Int
    public let channels: Int
    public var data: [Float]
    /// A 2D picture is resized bicubically and repeated along depth; a volume is resized nearest.
    public let isVolume: Bool
    public let scaling: IntensityScaling
    /// Millimetres between rows, columns and slices, when known.
    public let spacing: [Double]?
    /// Where the image came from (file, or series UID), for reports and errors.
    public let source: String

    public init(depth: Int, rows: Int, columns: Int, channels: Int, data: [Float], isVolume: Bool,
                scaling: IntensityScaling, spacing: [Double]?, source: String) {
        precondition(data.count == depth * rows * columns * channels, "volume data does not match its shape")
        self.depth = depth
        self.rows = rows
        self.columns = columns
        self.channels = channels
        self.data = data
        self.isVolume = isVolume
        self.scaling = scaling
        self.spacing = spacing
        self.source = source
    }
}
