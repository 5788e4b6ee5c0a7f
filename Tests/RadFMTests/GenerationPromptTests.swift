import XCTest
import RadFM

final class GenerationPromptTests: XCTestCase {
    func testImageMarkupNumbersVisualTokensAcrossImages() {
        XCTAssertEqual(PromptBuilder.imageMarkup(imageCount: 2, tokensPerImage: 2),
                       "<image><image0><image1></image><image><image2><image3></image>")
    }

    func testImagesGoBeforeTheQuestionByDefault() {
        XCTAssertEqual(PromptBuilder.text(question: "What is shown?", imageCount: 1, tokensPerImage: 1),
                       "<image><image0></image>What is shown?")
    }

    func testMarkupIsInsertedAtACharacterPosition() {
        XCTAssertEqual(
            PromptBuilder.text(question: "Look: é here", imageCount: 1, tokensPerImage: 1, position: 7),
            "Look: é<image><image0></image> here")
    }

    func testPositionPastTheEndAppendsLikePythonSlicing() {
        XCTAssertEqual(PromptBuilder.text(question: "Hi", imageCount: 1, tokensPerImage: 1, position: 50),
                       "Hi<image><image0></image>")
    }

    func testNoImagesLeavesTheQuestionAlone() {
        XCTAssertEqual(PromptBuilder.text(question: "Hi", imageCount: 0, tokensPerImage: 32), "Hi")
    }
}
