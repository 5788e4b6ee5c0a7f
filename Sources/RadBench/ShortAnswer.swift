/// Exact match and token F1 for short answers, with the SQuAD evaluation script's normalisation (the
/// convention VQA-RAD, SLAKE and PMC-VQA open-question results are reported with):
/// 1. lowercase (full Unicode lowercasing);
/// 2. delete ASCII punctuation (Python's `string.punctuation`), without leaving a space;
/// 3. delete the words "a", "an" and "the" (regex `\b(a|an|the)\b`, where letters, digits and `_` are word
///    characters);
/// 4. split on whitespace and rejoin with single spaces.
/// Token F1 counts clipped matches between the two token multisets; when either side has no tokens it is 1
/// if both are empty and 0 otherwise (SQuAD 2.0's rule).
public enum ShortAnswer {
    public static func normalize(_ text: String) -> String {
        normalizedTokens(text).joined(separator: " ")
    }

    public static func exactMatch(prediction: String, reference: String) -> Bool {
        normalizedTokens(prediction) == normalizedTokens(reference)
    }

    public static func tokenF1(prediction: String, reference: String) -> Double {
        let predicted = normalizedTokens(prediction), expected = normalizedTokens(reference)
        if predicted.isEmpty || expected.isEmpty { return predicted == expected ? 1 : 0 }
        var remaining: [String: Int] = [:]
        for token in expected { remaining[token, default: 0] += 1 }
        var common = 0
        for token in predicted {
            if let left = remaining[token], left > 0 {
                remaining[token] = left - 1
                common += 1
            }
        }
        guard common > 0 else { return 0 }
        let precision = Double(common) / Double(predicted.count)
        let recall = Double(common) / Double(expected.count)
        return 2 * precision * recall / (precision + recall)
    }

    static func normalizedTokens(_ text: String) -> [String] {
        let scalars = removingArticles(Array(text.lowercased().unicodeScalars.filter { !isASCIIPunctuation($0.value) }))
        var tokens: [String] = []
        let values = scalars.map(\.value)
        forEachPythonWord(in: values) { start, end in
            tokens.append(String(String.UnicodeScalarView(scalars[start..<end])))
        }
        return tokens
    }

    /// `string.punctuation`: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
    private static func isASCIIPunctuation(_ value: UInt32) -> Bool {
        switch value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        default: return false
        }
    }

    private static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    private static let articles: [[Unicode.Scalar]] = [["a"], ["a", "n"], ["t", "h", "e"]]

    /// `re.sub(r'\b(a|an|the)\b', ' ', text)`: an article counts only when no word character touches it.
    private static func removingArticles(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.count)
        var index = 0
        while index < scalars.count {
            let startsWord = index == 0 || !isWordCharacter(scalars[index - 1])
            if startsWord, let article = articles.first(where: { article in
                let end = index + article.count
                return end <= scalars.count && scalars[index..<end].elementsEqual(article)
                    && (end == scalars.count || !isWordCharacter(scalars[end]))
            }) {
                result.append(" ")
                index += article.count
            } else {
                result.append(scalars[index])
                index += 1
            }
        }
        return result
    }
}
