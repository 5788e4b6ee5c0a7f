/// Reads DICOM files through DCMTK (and OpenJPEG for JPEG 2000).
public enum DicomReader {
    /// Parses only the attributes the header holds (never pixel values or private elements), and
    /// checks what it claims about pixel data (dimensions within `limits`, enough bytes for native
    /// encodings).
    public static func readHeader(path: String, limits: DicomLimits = .default) throws -> DicomHeader {
        let file = try DicomFile(path: path, limits: limits, headerAttributes: DicomHeader.attributes)
        return try header(of: file)
    }

    /// Decodes every frame, as float32 after rescale slope and intercept.
    public static func decode(path: String, limits: DicomLimits = .default) throws -> DicomPixels {
        let file = try DicomFile(path: path, limits: limits)
        let header = try header(of: file)
        return try decode(file: file, header: header)
    }

    private static func header(of file: DicomFile) throws -> DicomHeader {
        let header = try DicomHeader(file: file)
        if header.isImage {
            do {
                try file.checkPixelData()
            } catch let error as DicomError where error.kind == .unsupportedTransferSyntax {
                // The header itself is fine; decoding reports the missing codec.
            }
        }
        return header
    }

    private static func decode(file: DicomFile, header: DicomHeader) throws -> DicomPixels {
        guard header.hasPixelData else {
            throw DicomError(kind: .noPixelData, path: header.path, message: "no (7FE0,0010) Pixel Data")
        }
        try file.checkPixelData()
        let channels = file.outputChannels
        let frameCount = header.rows * header.columns * channels
        let total = frameCount * header.frames
        let data = try [Float](unsafeUninitializedCapacity: total) { buffer, initialized in
            for frame in 0..<header.frames {
                let slice = UnsafeMutableBufferPointer(rebasing: buffer[(frame * frameCount)..<((frame + 1) * frameCount)])
                try file.decodeFrame(frame, slope: header.rescaleSlope, intercept: header.rescaleIntercept, into: slice)
            }
            initialized = total
        }
        return DicomPixels(header: header, frames: header.frames, rows: header.rows, columns: header.columns,
                           channels: channels, data: data)
    }
}
