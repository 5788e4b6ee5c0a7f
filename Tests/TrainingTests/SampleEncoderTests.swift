import Foundation
import RadFM
import Training
import XCTest

/// Sample -> ids and labels as RadFM's multi_dataset builds them, with RadFM's real tokenizer.
final class SampleEncoderTests: XCTestCase {
    static let tokenizerURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/radfm/tokenizer.model").standardizedFileURL

    var tokenizer: RadFMTokenizer!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.tokenizerURL.path),
                          "RadFM tokenizer not at \(Self.tokenizerURL.path)")
        tokenizer = try RadFMTokenizer(modelFile: Self.tokenizerURL)
    }

    func encoder(maxSequenceLength: Int = 2048) -> SampleEncoder {
        SampleEncoder(tokenizer: tokenizer, tokensPerImage: 2, maxImages: 4, vocabularySize: 32000,
                      maxSequenceLength: maxSequenceLength)
    }

    func image(_ position: Int, _ placement: ManifestSample.Placement = .question) -> ManifestSample.Image {
        ManifestSample.Image(url: URL(fileURLWithPath: "/x.png"), position: position, placement: placement)
    }

    func testMarkupGoesBeforeCharacterPositionMinusOneInListOrder() throws {
        let sample = ManifestSample(images: [image(3), image(0), image(1), image(6)], question: "abcdéf", answer: "z")
        let (question, _) = try encoder().textsWithMarkup(sample)
        let first = "<image><image0><image1></image>", second = "<image><image2><image3></image>"
        let third = "<image><image4><image5></image>", fourth = "<image><image6><image7></image>"
        // Positions 0 and 1 both land before character 0; position 6 before the sixth scalar "f".
        XCTAssertEqual(question, second + third + "ab" + first + "cdé" + fourth + "f")
    }

    func testAnswerPlacementAndBulletRemovalFollowRadFM() throws {
        let sample = ManifestSample(images: [image(2, .answer)], question: "Q • ?", answer: "• yes")
        let (question, answer) = try encoder().textsWithMarkup(sample)
        XCTAssertEqual(question, "Q • ?", "only the answer loses its bullets")
        XCTAssertEqual(answer, "<image><image0><image1></image> yes")
    }

    func testPositionPastTheTextIsATypedErrorWithTheLine() {
        let sample = ManifestSample(images: [image(4)], question: "abc", answer: "d", manifestPath: "m.jsonl", line: 7)
        XCTAssertThrowsError(try encoder().encode(sample)) { error in
            XCTAssertEqual(error as? TrainingDataError,
                           .imagePositionOutOfRange(path: "m.jsonl", line: 7, image: 0, position: 4, textLength: 3))
        }
    }

    func testIdsAreBosTextEosAndOnlyAnswerTextIsSupervised() throws {
        let sample = ManifestSample(images: [image(0)], question: "What modality is this?", answer: "CT scan")
        let encoded = try encoder().encode(sample)
        let answerless = tokenizer.encode("What modality is this? CT scan", addBOS: false)
        XCTAssertEqual(encoded.inputIds, [1, 32000, 32002, 32003, 32001] + answerless + [2])
        let questionLength = 5 + tokenizer.encode("What modality is this?", addBOS: false).count
        XCTAssertEqual(Array(encoded.labels[..<questionLength]), Array(repeating: -100, count: questionLength))
        XCTAssertEqual(Array(encoded.labels[questionLength...]), Array(encoded.inputIds[questionLength...]))
        XCTAssertEqual(encoded.labels.last, 2, "eos is supervised")
        XCTAssertGreaterThan(encoded.supervisedTokenCount, 1)
    }

    func testImageTokensInTheAnswerAreMasked() throws {
        let sample = ManifestSample(images: [image(1, .answer)], question: "Q", answer: "yes")
        let encoded = try encoder().encode(sample)
        for (id, label) in zip(encoded.inputIds, encoded.labels) where id >= 32000 { XCTAssertEqual(label, -100) }
        XCTAssertTrue(encoded.inputIds.contains(32000))
    }

    func testTruncationToMaxSequenceDropsEosAsRadFMsPaddingSlotDoes() throws {
        let sample = ManifestSample(images: [], question: "one two three four five six", answer: "seven eight")
        let encoded = try encoder(maxSequenceLength: 6).encode(sample)
        XCTAssertEqual(encoded.inputIds.count, 6)
        XCTAssertEqual(encoded.inputIds, Array(tokenizer.encode("one two three four five six seven eight").prefix(6)))
        XCTAssertFalse(encoded.inputIds.contains(2))
    }
}
