import RadBench
import XCTest

final class YesNoParserTests: XCTestCase {
    func testAnswersAreReadByTheDocumentedRules() {
        let cases: [(String, YesNoAnswer)] = [
            // Rule 1: nothing to read.
            ("", .unknown), ("  ...  ", .unknown),
            // Rule 2: the first word answers.
            ("Yes", .yes), ("yes.", .yes), ("YES, there is a small effusion", .yes), ("Yeah", .yes),
            ("Correct", .yes), ("Present", .yes), ("Yes, possibly", .yes),
            ("No", .no), ("no.", .no), ("No evidence of pneumothorax", .no), ("Nope", .no), ("None seen", .no),
            ("Negative for fracture", .no), ("Absent", .no), ("Without consolidation", .no), ("False", .no),
            // Rule 3: hedges.
            ("Pneumonia cannot be excluded", .unknown), ("cannot rule out a small effusion", .unknown),
            ("Possible consolidation at the left base", .unknown), ("It may be atelectasis", .unknown),
            ("Not excluded", .unknown), ("findings are indeterminate", .unknown), ("Maybe", .unknown),
            // Rule 4: negation anywhere.
            ("There is no pneumothorax", .no), ("The heart is not enlarged", .no), ("Not seen", .no),
            ("The lungs are clear and free of consolidation", .no), ("Heart size is normal", .no),
            ("The study is unremarkable", .no), ("The liver isn't enlarged", .no), ("The liver isn’t enlarged", .no),
            ("Not absent", .no),
            // Rule 5: affirmation anywhere.
            ("There is a right pleural effusion", .yes), ("The image shows a fracture", .yes),
            ("A nodule is seen in the right upper lobe", .yes), ("Findings consistent with pneumonia", .yes),
            ("The patient has cardiomegaly", .yes),
            // Rule 6: nothing recognised.
            ("Left lower lobe", .unknown), ("CT", .unknown), ("42", .unknown),
        ]
        for (answer, expected) in cases { XCTAssertEqual(YesNoParser.parse(answer), expected, answer) }
    }
}
