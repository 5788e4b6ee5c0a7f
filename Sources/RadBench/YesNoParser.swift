/// A closed-question answer read from free text.
public enum YesNoAnswer: String, Codable, Sendable, CaseIterable {
    case yes, no, unknown
}

/// Reads a yes/no answer out of a free-text model answer. The rules, tried in this order on the lowercased
/// words of the answer (letters, digits and apostrophes; everything else separates words):
///
/// 1. No words: `unknown`.
/// 2. The first word answers directly: yes/yeah/yep/correct/true/affirmative/positive/present/seen give
///    `yes`; no/nope/none/false/incorrect/negative/absent/without give `no`
///    ("No evidence of pneumothorax" is `no`, "Yes, there is an effusion" is `yes`).
/// 3. A hedge anywhere makes it `unknown`: "cannot be excluded", "cannot (be) rule(d) out", "can't exclude",
///    "not excluded", "not ruled out", "possible", "possibly", "probably", "likely", "may", "might", "maybe",
///    "uncertain", "unclear", "indeterminate", "equivocal", "questionable", "suspicious". A committed answer
///    is what is scored, so "possible pneumonia" counts as neither yes nor no.
/// 4. A negation anywhere gives `no`: the words no, not, none, without, absent, negative, neither, nor,
///    never, free (as in "free of"), unremarkable, normal, and the contraction forms isn't/aren't/wasn't/
///    doesn't/don't/didn't/cannot/can't ("There is no pneumothorax", "The heart is not enlarged"). "normal"
///    and "unremarkable" read as `no` because RadBench's closed questions ask whether a finding is present.
/// 5. Otherwise an affirmation anywhere gives `yes`: yes, present, seen, visible, shows, showing, shown,
///    demonstrates, evidence, consistent, positive, there (as in "there is"), has, have, contains, noted.
/// 6. Otherwise `unknown`.
///
/// A leading "not" is left to rules 3 and 4, so "Not excluded" is `unknown` and "Not seen" is `no`.
/// Double negation ("not absent") is read as `no`: rule 4 fires on the first negation word.
public enum YesNoParser {
    public static func parse(_ answer: String) -> YesNoAnswer {
        let words = lowercaseWords(answer)
        guard let first = words.first else { return .unknown }
        if leadingYes.contains(first) { return .yes }
        if leadingNo.contains(first) { return .no }
        if containsHedge(words) { return .unknown }
        if words.contains(where: negations.contains) { return .no }
        if words.contains(where: affirmations.contains) { return .yes }
        return .unknown
    }

    private static let leadingYes: Set<String> = [
        "yes", "yeah", "yep", "correct", "true", "affirmative", "positive", "present", "seen",
    ]
    private static let leadingNo: Set<String> = [
        "no", "nope", "none", "false", "incorrect", "negative", "absent", "without",
    ]
    private static let hedgeWords: Set<String> = [
        "possible", "possibly", "probably", "likely", "may", "might", "maybe", "uncertain", "unclear",
        "indeterminate", "equivocal", "questionable", "suspicious",
    ]
    /// Hedging phrases, matched as consecutive words.
    private static let hedgePhrases: [[String]] = [
        ["cannot", "be", "excluded"], ["cannot", "be", "ruled", "out"], ["cannot", "rule", "out"], ["cannot", "exclude"],
        ["can't", "be", "excluded"], ["can't", "rule", "out"], ["can't", "exclude"],
        ["not", "excluded"], ["not", "be", "excluded"], ["not", "ruled", "out"],
    ]
    private static let negations: Set<String> = [
        "no", "not", "none", "without", "absent", "negative", "neither", "nor", "never", "free", "unremarkable",
        "normal", "isn't", "aren't", "wasn't", "weren't", "doesn't", "don't", "didn't", "cannot", "can't",
    ]
    private static let affirmations: Set<String> = [
        "yes", "present", "seen", "visible", "shows", "showing", "shown", "demonstrates", "evidence",
        "consistent", "positive", "there", "has", "have", "contains", "noted",
    ]

    private static func containsHedge(_ words: [String]) -> Bool {
        if words.contains(where: hedgeWords.contains) { return true }
        return hedgePhrases.contains { phrase in
            words.count >= phrase.count
                && (0...(words.count - phrase.count)).contains { words[$0..<($0 + phrase.count)].elementsEqual(phrase) }
        }
    }

    /// Lowercased runs of letters, digits and apostrophes (’ is read as ').
    static func lowercaseWords(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                current.append(scalar)
            } else if (scalar == "'" || scalar == "\u{2019}") && !current.isEmpty {
                current.append("'")
            } else if !current.isEmpty {
                words.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }
}
