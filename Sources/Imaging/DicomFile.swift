import CDicom
import Foundation

/// One parsed DICOM file behind the C handle. Pixel data stays on disk until frames are decoded.
final class DicomFile {
    let path: String
    private let handle: OpaquePointer

    /// With `headerAttributes`, only those top-level attributes (and the public sequences, for nested
    /// lookups) are parsed and frames cannot be decoded: DCMTK's cost is per element parsed, and a
    /// header read wants some twenty of the hundreds a typical file carries.
    init(path: String, limits: DicomLimits, headerAttributes: [DicomTag]? = nil) throws {
        self.path = path
        var limits = limits.cLimits
        var handle: OpaquePointer?
        try DicomFile.withErrorBuffer(path: path) { error, capacity in
            guard let headerAttributes else { return cdicom_open(path, &limits, &handle, error, capacity) }
            let tags = headerAttributes.map { UInt32($0.group) << 16 | UInt32($0.element) }
            return cdicom_open_header(path, &limits, tags, tags.count, &handle, error, capacity)
        }
        guard let handle else { throw DicomError(kind: .io, path: path, message: "no handle returned") }
        self.handle = handle
    }

    deinit { cdicom_close(handle) }

    var transferSyntaxUID: String { String(cString: cdicom_transfer_syntax_uid(handle)) }
    var hasPixelData: Bool { cdicom_has_pixel_data(handle) != 0 }
    var outputChannels: Int { Int(cdicom_output_channels(handle)) }

    /// The value as text with surrounding padding removed; nil when absent or empty.
    func string(_ tag: DicomTag, nested: Bool = false) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        var length = cdicom_get_string(handle, tag.group, tag.element, nested ? 1 : 0, &buffer, buffer.count)
        if length < 0 { return nil }
        if length >= buffer.count {
            buffer = [CChar](repeating: 0, count: length + 1)
            length = cdicom_get_string(handle, tag.group, tag.element, nested ? 1 : 0, &buffer, buffer.count)
        }
        let raw = String(cString: buffer)
        let text = Self.needsTrimming(raw) ? raw.trimmingCharacters(in: Self.padding) : raw
        return text.isEmpty ? nil : text
    }

    private static let padding = CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\u{0}"))

    /// Whether either end may be padding. Most values have none, and Foundation's trimming costs more
    /// than the rest of reading a header; any non-ASCII end byte takes the exact path.
    private static func needsTrimming(_ text: String) -> Bool {
        guard let first = text.utf8.first, let last = text.utf8.last else { return false }
        func mayBePadding(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0 || byte >= 0x80 }
        return mayBePadding(first) || mayBePadding(last)
    }

    func number(_ tag: DicomTag, index: Int = 0, nested: Bool = false) -> Double? {
        var value = 0.0
        guard cdicom_get_number(handle, tag.group, tag.element, nested ? 1 : 0, UInt(index), &value) != 0 else { return nil }
        return value
    }

    /// Exactly `count` numeric values, or nil when the attribute is absent or has another multiplicity.
    func numbers(_ tag: DicomTag, count: Int, nested: Bool = false) -> [Double]? {
        var values: [Double] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            guard let value = number(tag, index: index, nested: nested) else { return nil }
            values.append(value)
        }
        if number(tag, index: count, nested: nested) != nil { return nil }
        return values
    }

    func checkPixelData() throws {
        try DicomFile.withErrorBuffer(path: path) { error, capacity in
            cdicom_check_pixel_data(handle, error, capacity)
        }
    }

    /// Decodes one frame after rescale into `output`, which holds rows * columns * channels values.
    func decodeFrame(_ frame: Int, slope: Double, intercept: Double, into output: UnsafeMutableBufferPointer<Float>) throws {
        try DicomFile.withErrorBuffer(path: path) { error, capacity in
            cdicom_decode_frame(handle, UInt32(frame), slope, intercept, output.baseAddress, output.count, error, capacity)
        }
    }

    /// Runs a C call with an error buffer and turns a failure status into a DicomError.
    private static func withErrorBuffer(path: String,
                                        _ body: (UnsafeMutablePointer<CChar>, Int) -> cdicom_status) throws {
        var buffer = [CChar](repeating: 0, count: 1024)
        let status = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        if status != CDICOM_OK {
            throw DicomError(status: status, path: path, cMessage: String(cString: buffer))
        }
    }
}
