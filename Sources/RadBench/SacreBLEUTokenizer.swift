/// sacrebleu's default `13a` tokenizer (mteval-v13a.pl as sacrebleu 2.x implements it), applied to a segment
/// after BLEU's own `rstrip()`. Each step is one left-to-right pass over Unicode scalars that does what the
/// corresponding Python `str.replace` or `re.sub` does, including their non-overlapping match semantics, so
/// the tokens (and hence every n-gram count) are identical to sacrebleu's.
public enum SacreBLEUTokenizer {
    /// The tokens of `segment`, as sacrebleu's BLEU would count them.
    public static func tokenize(_ segment: String) -> [String] {
        let scalars = tokenizedScalars(segment)
        var words: [String] = []
        forEachPythonWord(in: scalars) { start, end in
            words.append(String(String.UnicodeScalarView(scalars[start..<end].map { Unicode.Scalar($0)! })))
        }
        return words
    }

    /// Token ids of `segment`, interned in `interner`.
    static func tokenIDs(_ segment: String, interner: inout TokenInterner<UInt32>) -> [Int32] {
        let scalars = tokenizedScalars(segment)
        var ids: [Int32] = []
        forEachPythonWord(in: scalars) { start, end in ids.append(interner.id(of: scalars[start..<end])) }
        return ids
    }

    /// The segment after every 13a rewrite, still to be split on whitespace.
    static func tokenizedScalars(_ segment: String) -> [UInt32] {
        var text = segment.unicodeScalars.map(\.value)
        while let last = text.last, isPythonWhitespace(last) { text.removeLast() }

        text = replacing(text, Self.skippedMarker, with: [])
        text = replacing(text, [hyphen, newline], with: [])
        text = text.map { $0 == newline ? space : $0 }
        if text.contains(ampersand) {
            for (entity, character) in Self.entities { text = replacing(text, entity, with: [character]) }
        }

        var padded = [space]
        padded.reserveCapacity(text.count * 2 + 2)
        // re.sub(r'([\{-\~\[-\` -\&\(-\+\:-\@\/])', r' \1 ')
        for scalar in text {
            if isIsolatedSymbol(scalar) { padded.append(space); padded.append(scalar); padded.append(space) }
            else { padded.append(scalar) }
        }
        padded.append(space)

        // re.sub(r'([^0-9])([\.,])', r'\1 \2 ')
        var pass = rewritePairs(padded, spacing: .betweenAndAfter) { !isDigit($0) && isPeriodOrComma($1) }
        // re.sub(r'([\.,])([^0-9])', r' \1 \2')
        pass = rewritePairs(pass, spacing: .beforeAndBetween) { isPeriodOrComma($0) && !isDigit($1) }
        // re.sub(r'([0-9])(-)', r'\1 \2 ')
        return rewritePairs(pass, spacing: .betweenAndAfter) { isDigit($0) && $1 == hyphen }
    }

    private static let space: UInt32 = 0x20, newline: UInt32 = 0x0A, hyphen: UInt32 = 0x2D, ampersand: UInt32 = 0x26
    private static let skippedMarker = Array("<skipped>".unicodeScalars.map(\.value))
    private static let entities: [([UInt32], UInt32)] = [
        (Array("&quot;".unicodeScalars.map(\.value)), 0x22), (Array("&amp;".unicodeScalars.map(\.value)), 0x26),
        (Array("&lt;".unicodeScalars.map(\.value)), 0x3C), (Array("&gt;".unicodeScalars.map(\.value)), 0x3E),
    ]

    @inline(__always) private static func isDigit(_ scalar: UInt32) -> Bool { scalar >= 0x30 && scalar <= 0x39 }
    @inline(__always) private static func isPeriodOrComma(_ scalar: UInt32) -> Bool { scalar == 0x2E || scalar == 0x2C }

    /// The class `[\{-\~\[-\` -\&\(-\+\:-\@\/]`: ASCII punctuation except `'`, `,`, `-` and `.`, plus space.
    @inline(__always) private static func isIsolatedSymbol(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x7B...0x7E, 0x5B...0x60, 0x20...0x26, 0x28...0x2B, 0x3A...0x40, 0x2F: return true
        default: return false
        }
    }

    /// Python's `str.replace(old, new)`: every non-overlapping occurrence, scanning left to right once.
    private static func replacing(_ text: [UInt32], _ old: [UInt32], with new: [UInt32]) -> [UInt32] {
        guard text.count >= old.count, text.contains(old[0]) else { return text }
        var result: [UInt32] = []
        result.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if index + old.count <= text.count && text[index..<(index + old.count)].elementsEqual(old) {
                result.append(contentsOf: new)
                index += old.count
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }

    /// Where the replacement of a two-character match puts its spaces: `\1 \2 ` or ` \1 \2`.
    private enum PairSpacing { case betweenAndAfter, beforeAndBetween }

    /// `re.sub` for a two-character pattern: where `matches` accepts the pair at the scan position, the pair
    /// is written back with spaces and the scan resumes after it; otherwise one character is kept.
    private static func rewritePairs(_ text: [UInt32], spacing: PairSpacing,
                                     _ matches: (UInt32, UInt32) -> Bool) -> [UInt32] {
        var result: [UInt32] = []
        result.reserveCapacity(text.count + text.count / 2)
        var index = 0
        while index < text.count {
            if index + 1 < text.count, matches(text[index], text[index + 1]) {
                switch spacing {
                case .betweenAndAfter: result.append(text[index]); result.append(space); result.append(text[index + 1]); result.append(space)
                case .beforeAndBetween: result.append(space); result.append(text[index]); result.append(space); result.append(text[index + 1])
                }
                index += 2
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }
}
