/// rouge-score's default tokenizer (`rouge_score.tokenize.tokenize`): Python's `str.lower()`, every run of
/// characters outside `[a-z0-9]` becomes a separator, and with the stemmer on, tokens longer than three
/// characters go through NLTK's Porter stemmer.
public struct RougeTokenizer {
    public let usesStemmer: Bool
    /// Stems already computed: each distinct word is stemmed once per tokenizer.
    private var stems: [ArraySlice<UInt8>: [UInt8]] = [:]

    public init(usesStemmer: Bool) {
        self.usesStemmer = usesStemmer
    }

    /// The tokens rouge-score would score for `text`.
    public mutating func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        forEachToken(in: text) { tokens.append(String(decoding: $0, as: UTF8.self)) }
        return tokens
    }

    /// Calls `body` with each token's bytes (lowercase ASCII letters and digits), stemmed when asked.
    mutating func forEachToken(in text: String, _ body: (ArraySlice<UInt8>) -> Void) {
        let bytes = Self.lowercasedAlphanumerics(text)
        var start = -1
        for index in 0...bytes.count {
            let isSeparator = index == bytes.count || bytes[index] == Self.separator
            if !isSeparator {
                if start < 0 { start = index }
                continue
            }
            guard start >= 0 else { continue }
            let word = bytes[start..<index]
            start = -1
            if usesStemmer && word.count > 3 {
                if let stem = stems[word] {
                    body(stem[...])
                } else {
                    let stem = PorterStemmer.stem(Array(word))
                    stems[ArraySlice(Array(word))] = stem
                    body(stem[...])
                }
            } else {
                body(word)
            }
        }
    }

    private static let separator = UInt8(ascii: " ")

    /// The text after `lower()` and `re.sub(r"[^a-z0-9]+", " ")`, one byte per kept character.
    static func lowercasedAlphanumerics(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x30...0x39, 0x61...0x7A: bytes.append(UInt8(scalar.value))
            case 0x41...0x5A: bytes.append(UInt8(scalar.value + 0x20))
            // The only non-ASCII characters whose lowercase form holds a letter a-z (Unicode 14, checked by
            // scanning every code point): KELVIN SIGN -> "k", and DOTTED CAPITAL I -> "i" + combining dot.
            case 0x212A: bytes.append(UInt8(ascii: "k"))
            case 0x130: bytes.append(UInt8(ascii: "i")); bytes.append(separator)
            default: bytes.append(separator)
            }
        }
        return bytes
    }
}
