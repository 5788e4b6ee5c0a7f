import CDicom

/// Upper bounds on what a DICOM header may claim, checked before any pixel buffer is allocated.
public struct DicomLimits: Sendable, Equatable {
    public var maxRows: Int
    public var maxColumns: Int
    public var maxFrames: Int
    /// Bound on all frames decoded as float32, in bytes.
    public var maxTotalBytes: Int

    public init(maxRows: Int, maxColumns: Int, maxFrames: Int, maxTotalBytes: Int) {
        self.maxRows = maxRows
        self.maxColumns = maxColumns
        self.maxFrames = maxFrames
        self.maxTotalBytes = maxTotalBytes
    }

    /// 16384 rows and columns, 16384 frames, 8 GiB decoded.
    public static let `default`: DicomLimits = {
        let limits = cdicom_default_limits()
        return DicomLimits(maxRows: Int(limits.max_rows), maxColumns: Int(limits.max_columns),
                           maxFrames: Int(limits.max_frames), maxTotalBytes: Int(limits.max_total_bytes))
    }()

    var cLimits: cdicom_limits {
        cdicom_limits(max_rows: UInt32(clamping: maxRows), max_columns: UInt32(clamping: maxColumns),
                      max_frames: UInt32(clamping: maxFrames), max_total_bytes: UInt64(clamping: maxTotalBytes))
    }
}
