import RadBench
import XCTest

final class ShortAnswerTests: XCTestCase {
    func testNormalisationLowercasesDropsPunctuationArticlesAndExtraSpace() {
        let cases: [(String, String)] = [
            ("  A  CT   scan. ", "ct scan"), ("The Left lung.", "left lung"), ("x-ray", "xray"),
            ("theory of the case", "theory of case"), ("an", ""), ("Ödem", "ödem"), ("a/b", "ab"),
            ("T2-weighted MRI", "t2weighted mri"), ("answer:\tthe\u{00A0}liver", "answer liver"),
        ]
        for (text, normalized) in cases { XCTAssertEqual(ShortAnswer.normalize(text), normalized, text) }
    }

    func testExactMatchComparesNormalisedAnswers() {
        XCTAssertTrue(ShortAnswer.exactMatch(prediction: "The left lung.", reference: "left lung"))
        XCTAssertTrue(ShortAnswer.exactMatch(prediction: "", reference: "the"))
        XCTAssertFalse(ShortAnswer.exactMatch(prediction: "left lungs", reference: "left lung"))
    }

    func testTokenF1CountsClippedTokenOverlap() {
        let cases: [(String, String, Double)] = [
            ("pleural effusion", "effusion", 2.0 / 3),       // P 1/2, R 1
            ("no no effusion", "no effusion", 0.8),          // 2 common: P 2/3, R 1
            ("left lower lobe", "right lower lobe", 2.0 / 3), // P 2/3, R 2/3
            ("liver", "spleen", 0),
            ("", "", 1),                                     // SQuAD 2.0: both empty agree
            ("", "yes", 0),
            ("The", "a", 1),                                 // both normalise to nothing
        ]
        for (prediction, reference, f1) in cases {
            XCTAssertEqual(ShortAnswer.tokenF1(prediction: prediction, reference: reference), f1, accuracy: 1e-15,
                           "\(prediction) / \(reference)")
        }
    }
}
