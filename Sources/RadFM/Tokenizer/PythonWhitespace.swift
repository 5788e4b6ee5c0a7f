/// Python's `str.strip()` on UTF-8 bytes: transformers strips the text around added tokens with it, so the set
/// is Python's `str.isspace` (Unicode White_Space plus the ASCII separators U+001C…U+001F), not Swift's.
enum PythonWhitespace {
    static func isSpace(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `range` without the white space at its start and/or end.
    static func strip(
        _ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, leading: Bool, trailing: Bool
    ) -> Range<Int> {
        var start = range.lowerBound
        var end = range.upperBound
        if leading {
            while start < end {
                let (scalar, length) = decode(text, at: start)
                guard isSpace(scalar) else { break }
                start += length
            }
        }
        if trailing {
            while end > start {
                var lead = end - 1
                while lead > start, text[lead] & 0xC0 == 0x80 { lead -= 1 }
                guard isSpace(decode(text, at: lead).scalar) else { break }
                end = lead
            }
        }
        return start..<end
    }

    /// The scalar at `index` of valid UTF-8 (Swift strings always are) and its length in bytes.
    private static func decode(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> (scalar: UInt32, length: Int) {
        let lead = UInt32(text[index])
        func continuation(_ offset: Int) -> UInt32 { UInt32(text[index + offset]) & 0x3F }
        switch lead {
        case 0xF0...: return ((lead & 0x07) << 18 | continuation(1) << 12 | continuation(2) << 6 | continuation(3), 4)
        case 0xE0...: return ((lead & 0x0F) << 12 | continuation(1) << 6 | continuation(2), 3)
        case 0xC0...: return ((lead & 0x1F) << 6 | continuation(1), 2)
        default: return (lead, 1)
        }
    }
}
