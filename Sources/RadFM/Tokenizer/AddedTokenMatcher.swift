/// Finds RadFM's added tokens in UTF-8 text: `<image>`, `</image>` and `<imageN>` for N in 0…3199 written
/// without leading zeros. Every token starts with `<` and ends at its first `>`, so no two matches overlap and
/// a left-to-right scan finds what transformers' longest-match trie finds.
enum AddedTokenMatcher {
    struct Match {
        let range: Range<Int>
        let id: Int32
    }

    private static let prefix = Array("<image".utf8)

    static func matches(in text: UnsafeBufferPointer<UInt8>) -> [Match] {
        var found: [Match] = []
        var position = 0
        while position < text.count {
            if text[position] == UInt8(ascii: "<"), let match = match(in: text, at: position) {
                found.append(match)
                position = match.range.upperBound
            } else {
                position += 1
            }
        }
        return found
    }

    private static func match(in text: UnsafeBufferPointer<UInt8>, at start: Int) -> Match? {
        var position = start + 1
        var closing = false
        if position < text.count, text[position] == UInt8(ascii: "/") {
            closing = true
            position += 1
        }
        for byte in prefix.dropFirst() {
            guard position < text.count, text[position] == byte else { return nil }
            position += 1
        }
        guard position < text.count else { return nil }
        if text[position] == UInt8(ascii: ">") {
            return Match(
                range: start..<(position + 1), id: closing ? RadFMTokenizer.imageEnd : RadFMTokenizer.imageStart)
        }
        guard !closing else { return nil }
        var number = 0
        var digits = 0
        while position < text.count, digits <= 4, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[position]) {
            number = number * 10 + Int(text[position] - UInt8(ascii: "0"))
            digits += 1
            position += 1
        }
        guard digits > 0, position < text.count, text[position] == UInt8(ascii: ">"),
            digits == 1 || text[start + prefix.count] != UInt8(ascii: "0"),
            number < RadFMTokenizer.imagePatchTokenCount
        else { return nil }
        return Match(range: start..<(position + 1), id: RadFMTokenizer.firstImagePatch + Int32(number))
    }

    /// The written form of an added token id, or nil for ids that are not added tokens.
    static func text(of id: Int32) -> String? {
        switch id {
        case RadFMTokenizer.imageStart: return "<image>"
        case RadFMTokenizer.imageEnd: return "</image>"
        case RadFMTokenizer.firstImagePatch..<(RadFMTokenizer.firstImagePatch + Int32(RadFMTokenizer.imagePatchTokenCount)):
            return "<image\(id - RadFMTokenizer.firstImagePatch)>"
        default: return nil
        }
    }
}
