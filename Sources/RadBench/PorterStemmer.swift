/// The Porter stemmer as NLTK implements it in its default `NLTK_EXTENSIONS` mode, which is what
/// rouge-score's `use_stemmer=True` calls (`nltk.stem.porter.PorterStemmer()`). Every rule, its order and
/// NLTK's departures from the 1980 paper (the irregular-forms table, `ies`/`ied` on four-letter words,
/// `alli` first in step 2, `fulli`, `logi`, the two-letter `*o` case, `y` after a consonant in step 1c) are
/// kept, because one differing stem changes ROUGE's n-gram matches.
///
/// Words are lowercase ASCII bytes, as rouge-score's tokenizer produces them.
public enum PorterStemmer {
    public static func stem(_ word: [UInt8]) -> [UInt8] {
        if let irregular = irregularForms[word] { return irregular }
        // NLTK leaves words of one or two letters alone.
        if word.count <= 2 { return word }
        var stem = word
        stem = step1a(stem)
        stem = step1b(stem)
        stem = step1c(stem)
        stem = step2(stem)
        stem = step3(stem)
        stem = step4(stem)
        stem = step5a(stem)
        stem = step5b(stem)
        return stem
    }

    /// `stem` for a String of lowercase ASCII letters and digits.
    public static func stem(_ word: String) -> String {
        String(decoding: stem(Array(word.utf8)), as: UTF8.self)
    }

    // MARK: - Letter classes

    @inline(__always) private static func isVowel(_ letter: UInt8) -> Bool {
        letter == 0x61 || letter == 0x65 || letter == 0x69 || letter == 0x6F || letter == 0x75
    }

    private static let y = UInt8(ascii: "y")

    /// A `y` is a consonant at the start of a word or after a vowel, and a vowel after a consonant.
    private static func isConsonant(_ word: ArraySlice<UInt8>, _ index: Int) -> Bool {
        var position = index
        if isVowel(word[position]) { return false }
        if word[position] != y { return true }
        var negate = false
        while position > word.startIndex && word[position] == y {
            negate.toggle()
            position -= 1
        }
        return !isVowel(word[position]) != negate
    }

    /// Porter's m: the number of vowel-run/consonant-run pairs.
    private static func measure(_ stem: ArraySlice<UInt8>) -> Int {
        var pairs = 0
        var previousIsConsonant: Bool? = nil
        for index in stem.indices {
            let letter = stem[index]
            let consonant: Bool
            if isVowel(letter) { consonant = false }
            else if letter == y { consonant = previousIsConsonant.map { !$0 } ?? true }
            else { consonant = true }
            if consonant && previousIsConsonant == false { pairs += 1 }
            previousIsConsonant = consonant
        }
        return pairs
    }

    private static func containsVowel(_ stem: ArraySlice<UInt8>) -> Bool {
        stem.indices.contains { !isConsonant(stem, $0) }
    }

    /// Condition *d.
    private static func endsDoubleConsonant(_ word: ArraySlice<UInt8>) -> Bool {
        word.count >= 2 && word[word.endIndex - 1] == word[word.endIndex - 2] && isConsonant(word, word.endIndex - 1)
    }

    /// Condition *o, with NLTK's extension to two-letter stems (vowel then consonant).
    private static func endsCVC(_ word: ArraySlice<UInt8>) -> Bool {
        let end = word.endIndex
        if word.count >= 3 && isConsonant(word, end - 3) && !isConsonant(word, end - 2) && isConsonant(word, end - 1) {
            let last = word[end - 1]
            if last != UInt8(ascii: "w") && last != UInt8(ascii: "x") && last != y { return true }
        }
        return word.count == 2 && !isConsonant(word, word.startIndex) && isConsonant(word, word.startIndex + 1)
    }

    // MARK: - Rules

    private enum Condition {
        case always, positiveMeasure, measureAboveOne
        /// Step 4's `(m>1 and (*S or *T)) ION`.
        case measureAboveOneEndingSOrT
        /// Step 2's `logi -> log`, whose measure is taken with the `l` kept on the stem.
        case positiveMeasureKeepingL

        func holds(stem: ArraySlice<UInt8>, word: [UInt8]) -> Bool {
            switch self {
            case .always: return true
            case .positiveMeasure: return measure(stem) > 0
            case .measureAboveOne: return measure(stem) > 1
            case .measureAboveOneEndingSOrT:
                return measure(stem) > 1 && (stem.last == UInt8(ascii: "s") || stem.last == UInt8(ascii: "t"))
            case .positiveMeasureKeepingL: return measure(word[0..<(word.count - 3)]) > 0
            }
        }
    }

    private struct Rule {
        let suffix: [UInt8]
        let replacement: [UInt8]
        let condition: Condition

        init(_ suffix: String, _ replacement: String, _ condition: Condition) {
            self.suffix = Array(suffix.utf8)
            self.replacement = Array(replacement.utf8)
            self.condition = condition
        }
    }

    private static func hasSuffix(_ word: [UInt8], _ suffix: [UInt8]) -> Bool {
        word.count >= suffix.count && word[(word.count - suffix.count)...].elementsEqual(suffix)
    }

    /// The first rule whose suffix the word ends with decides: it applies if its condition holds, and no
    /// later rule is tried either way (NLTK's `_apply_rule_list`).
    private static func applyFirstMatching(_ word: [UInt8], _ rules: [Rule]) -> [UInt8] {
        for rule in rules where hasSuffix(word, rule.suffix) {
            let stem = word[0..<(word.count - rule.suffix.count)]
            guard rule.condition.holds(stem: stem, word: word) else { return word }
            return Array(stem) + rule.replacement
        }
        return word
    }

    private static func replacingSuffix(_ word: [UInt8], dropping count: Int, with replacement: String) -> [UInt8] {
        Array(word[0..<(word.count - count)]) + Array(replacement.utf8)
    }

    private static let step1aRules = [Rule("sses", "ss", .always), Rule("ies", "i", .always),
                                      Rule("ss", "ss", .always), Rule("s", "", .always)]

    private static func step1a(_ word: [UInt8]) -> [UInt8] {
        if word.count == 4 && hasSuffix(word, ies) { return replacingSuffix(word, dropping: 3, with: "ie") }
        return applyFirstMatching(word, step1aRules)
    }

    private static let ies = Array("ies".utf8), ied = Array("ied".utf8), eed = Array("eed".utf8)
    private static let ed = Array("ed".utf8), ing = Array("ing".utf8)
    private static let step1bRepairs = [Rule("at", "ate", .always), Rule("bl", "ble", .always), Rule("iz", "ize", .always)]

    private static func step1b(_ word: [UInt8]) -> [UInt8] {
        if hasSuffix(word, ied) { return replacingSuffix(word, dropping: 3, with: word.count == 4 ? "ie" : "i") }
        if hasSuffix(word, eed) {
            return measure(word[0..<(word.count - 3)]) > 0 ? replacingSuffix(word, dropping: 3, with: "ee") : word
        }
        var intermediate: [UInt8]? = nil
        for suffix in [ed, ing] where hasSuffix(word, suffix) {
            let stem = word[0..<(word.count - suffix.count)]
            if containsVowel(stem) { intermediate = Array(stem); break }
        }
        guard let stem = intermediate else { return word }

        if let repair = step1bRepairs.first(where: { hasSuffix(stem, $0.suffix) }) {
            return Array(stem[0..<(stem.count - repair.suffix.count)]) + repair.replacement
        }
        if endsDoubleConsonant(stem[...]) {
            let last = stem[stem.count - 1]
            return last == UInt8(ascii: "l") || last == UInt8(ascii: "s") || last == UInt8(ascii: "z") ? stem : Array(stem.dropLast())
        }
        return measure(stem[...]) == 1 && endsCVC(stem[...]) ? stem + [UInt8(ascii: "e")] : stem
    }

    /// NLTK's step 1c: y -> i only after a consonant that is not the whole stem.
    private static func step1c(_ word: [UInt8]) -> [UInt8] {
        guard word.last == y else { return word }
        let stem = word[0..<(word.count - 1)]
        guard stem.count > 1 && isConsonant(stem, stem.endIndex - 1) else { return word }
        return Array(stem) + [UInt8(ascii: "i")]
    }

    private static let alli = Array("alli".utf8)
    private static let step2Rules = [
        Rule("ational", "ate", .positiveMeasure), Rule("tional", "tion", .positiveMeasure),
        Rule("enci", "ence", .positiveMeasure), Rule("anci", "ance", .positiveMeasure),
        Rule("izer", "ize", .positiveMeasure), Rule("bli", "ble", .positiveMeasure),
        Rule("alli", "al", .positiveMeasure), Rule("entli", "ent", .positiveMeasure),
        Rule("eli", "e", .positiveMeasure), Rule("ousli", "ous", .positiveMeasure),
        Rule("ization", "ize", .positiveMeasure), Rule("ation", "ate", .positiveMeasure),
        Rule("ator", "ate", .positiveMeasure), Rule("alism", "al", .positiveMeasure),
        Rule("iveness", "ive", .positiveMeasure), Rule("fulness", "ful", .positiveMeasure),
        Rule("ousness", "ous", .positiveMeasure), Rule("aliti", "al", .positiveMeasure),
        Rule("iviti", "ive", .positiveMeasure), Rule("biliti", "ble", .positiveMeasure),
        Rule("fulli", "ful", .positiveMeasure), Rule("logi", "log", .positiveMeasureKeepingL),
    ]

    private static func step2(_ word: [UInt8]) -> [UInt8] {
        // NLTK applies alli -> al before the list and runs step 2 again on the result.
        if hasSuffix(word, alli) && measure(word[0..<(word.count - 4)]) > 0 {
            return step2(replacingSuffix(word, dropping: 4, with: "al"))
        }
        return applyFirstMatching(word, step2Rules)
    }

    private static let step3Rules = [
        Rule("icate", "ic", .positiveMeasure), Rule("ative", "", .positiveMeasure),
        Rule("alize", "al", .positiveMeasure), Rule("iciti", "ic", .positiveMeasure),
        Rule("ical", "ic", .positiveMeasure), Rule("ful", "", .positiveMeasure), Rule("ness", "", .positiveMeasure),
    ]

    private static func step3(_ word: [UInt8]) -> [UInt8] { applyFirstMatching(word, step3Rules) }

    private static let step4Rules = [
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
    ].map { Rule($0, "", .measureAboveOne) } + [Rule("ion", "", .measureAboveOneEndingSOrT)] + [
        "ou", "ism", "ate", "iti", "ous", "ive", "ize",
    ].map { Rule($0, "", .measureAboveOne) }

    private static func step4(_ word: [UInt8]) -> [UInt8] { applyFirstMatching(word, step4Rules) }

    /// Step 5a tries both of its rules on the same suffix, unlike the other steps.
    private static func step5a(_ word: [UInt8]) -> [UInt8] {
        guard word.last == UInt8(ascii: "e") else { return word }
        let stem = word[0..<(word.count - 1)]
        let m = measure(stem)
        if m > 1 || (m == 1 && !endsCVC(stem)) { return Array(stem) }
        return word
    }

    private static func step5b(_ word: [UInt8]) -> [UInt8] {
        guard hasSuffix(word, Array("ll".utf8)) else { return word }
        return measure(word[0..<(word.count - 1)]) > 1 ? Array(word.dropLast()) : word
    }

    /// NLTK's table of irregular forms, consulted before any rule.
    private static let irregularForms: [[UInt8]: [UInt8]] = {
        let table: [String: [String]] = [
            "sky": ["sky", "skies"], "die": ["dying"], "lie": ["lying"], "tie": ["tying"], "news": ["news"],
            "inning": ["innings", "inning"], "outing": ["outings", "outing"], "canning": ["cannings", "canning"],
            "howe": ["howe"], "proceed": ["proceed"], "exceed": ["exceed"], "succeed": ["succeed"],
        ]
        var forms: [[UInt8]: [UInt8]] = [:]
        for (stem, words) in table { for word in words { forms[Array(word.utf8)] = Array(stem.utf8) } }
        return forms
    }()
}
