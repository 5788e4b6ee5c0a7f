import Foundation
import XCTest

@testable import RadFM

/// RadFM's tokenizer against llama.cpp's vectors, the reference `sentencepiece` package, and the image markup
/// rules of transformers 4.28's slow LlamaTokenizer with RadFM's added tokens.
final class TokenizerTests: XCTestCase {
    private var tokenizer: RadFMTokenizer!

    override func setUpWithError() throws {
        tokenizer = try TokenizerFixtures.tokenizer.get()
    }

    func testLlamaCppSpmVocabularyVectorsEncodeIdentically() throws {
        let cases = try TokenizerFixtures.llamaCppCases()
        XCTAssertEqual(cases.count, 46)
        for testCase in cases {
            XCTAssertEqual(tokenizer.encode(testCase.text, addBOS: false), testCase.ids, testCase.text.debugDescription)
        }
    }

    func testEncodingMatchesTheSentencePieceReferenceOnVariedText() throws {
        let cases = try TokenizerFixtures.jsonLines("sentencepiece_encode.jsonl", as: TokenizerFixtures.EncodeCase.self)
        XCTAssertGreaterThan(cases.count, 300)
        var mismatches = 0
        for testCase in cases where tokenizer.encode(testCase.text, addBOS: false) != testCase.ids {
            mismatches += 1
            XCTFail("\(testCase.text.debugDescription): \(tokenizer.encode(testCase.text, addBOS: false)) != \(testCase.ids)")
            if mismatches > 5 { break }
        }
    }

    func testDecodingMatchesTheSentencePieceReferenceIncludingBytesAndLeadingSpace() throws {
        let cases = try TokenizerFixtures.jsonLines("sentencepiece_decode.jsonl", as: TokenizerFixtures.DecodeCase.self)
        XCTAssertGreaterThan(cases.count, 100)
        for testCase in cases {
            let text = String(decoding: tokenizer.sentencePiece.decode(testCase.ids), as: UTF8.self)
            XCTAssertEqual(text, testCase.text, "\(testCase.ids)")
        }
    }

    func testNewlineAloneEncodesToBosSpaceNewline() {
        XCTAssertEqual(tokenizer.encode("\n"), [1, 29871, 13])
    }

    func testBosComesFirstUnlessDisabled() {
        XCTAssertEqual(tokenizer.encode("Hello"), [1, 15043])
        XCTAssertEqual(tokenizer.encode("Hello", addBOS: false), [15043])
        XCTAssertEqual(tokenizer.encode(""), [1])
    }

    func testImageMarkupIsSplitOutAndEachTextChunkGetsItsOwnDummyPrefix() {
        let markup = "<image>" + (0..<32).map { "<image\($0)>" }.joined() + "</image>"
        let ids = tokenizer.encode(markup + "Hello world")
        let expectedMarkup: [Int32] = [32000] + (32002..<32034).map { Int32($0) } + [32001]
        XCTAssertEqual(ids, [1] + expectedMarkup + [15043, 3186])
        XCTAssertEqual(tokenizer.encode("Hello<image>world"), [1, 15043, 32000, 3186])
    }

    func testWhitespaceOnBothSidesOfAnAddedTokenIsStripped() {
        let stripped = tokenizer.encode("Hello<image3199>world")
        XCTAssertEqual(stripped, [1, 15043, 35201, 3186])
        XCTAssertEqual(tokenizer.encode("Hello \n\t <image3199> \u{3000}\u{A0} world"), stripped)
        // Only the sides touching an added token are stripped.
        XCTAssertEqual(
            tokenizer.encode("  Hello <image> world  ", addBOS: false),
            tokenizer.encode("  Hello", addBOS: false) + [32000] + tokenizer.encode("world  ", addBOS: false))
        // A chunk of nothing but white space between two tokens disappears.
        XCTAssertEqual(tokenizer.encode("<image> \n </image>"), [1, 32000, 32001])
    }

    func testOutOfRangeImageTokenAndSentencePieceSpecialsAreOrdinaryText() throws {
        let reference = try TokenizerFixtures.jsonLines("sentencepiece_encode.jsonl", as: TokenizerFixtures.EncodeCase.self)
        for text in ["<image3200>", "<s>", "</s>", "<unk>", "<s> hello </s>", "<image"] {
            let expected = try XCTUnwrap(reference.first { $0.text == text }, text).ids
            XCTAssertEqual(tokenizer.encode(text, addBOS: false), expected, text)
            XCTAssertFalse(expected.contains { $0 < 3 || $0 >= 32000 }, text)
        }
        XCTAssertFalse(tokenizer.encode("<image01> <image-1> <image 1> <Image1> <image1").contains { $0 >= 32000 })
        XCTAssertEqual(tokenizer.encode("<image<image1>", addBOS: false).last, 32003)
    }

    func testMatchesTransformers428SlowLlamaTokenizerWithRadFMsAddedTokens() throws {
        struct Reference: Decodable {
            struct Encoded: Decodable {
                let text: String
                let ids: [Int32]
            }
            struct Decoded: Decodable {
                let ids: [Int32]
                let skip: String
                let keep: String
            }
            let encode: [Encoded]
            let decode: [Decoded]
        }
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: CheckpointFixtures.url("transformers428_radfm_tokenizer.json")))
        XCTAssertGreaterThan(reference.encode.count, 20)
        for testCase in reference.encode {
            XCTAssertEqual(tokenizer.encode(testCase.text), testCase.ids, testCase.text.debugDescription)
        }
        for testCase in reference.decode {
            XCTAssertEqual(tokenizer.decode(testCase.ids), testCase.skip, "\(testCase.ids)")
            XCTAssertEqual(tokenizer.decode(testCase.ids, skipSpecialTokens: false), testCase.keep, "\(testCase.ids)")
        }
    }

    func testEncodeThenDecodeRestoresRadiologyText() {
        let text = "IMPRESSION:\n1. Mild cardiomegaly (CTR 0.55).\n2. No pleural effusion — stable vs. 2023-04-01. 肺"
        XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), text)
    }

    func testVocabularySizeCountsTheAddedTokens() {
        XCTAssertEqual(tokenizer.vocabularySize, 35202)
        XCTAssertEqual(RadFMTokenizer.imagePatch(3199), 35201)
    }

    func testModelFileThatIsNotASentencePieceModelGivesErrorNamingTheFile() throws {
        let url = try CheckpointFixtures.temporaryDirectory().appendingPathComponent("tokenizer.model")
        try Data("this is not a protobuf".utf8).write(to: url)
        XCTAssertThrowsError(try RadFMTokenizer(modelFile: url)) { error in
            XCTAssertEqual((error as? TokenizerError)?.file, url.path)
        }
    }
}
