import Foundation
@testable import Pipeline
import XCTest

final class CanonicalJSONTests: XCTestCase {
    func testKeysAreSortedAndEveryValueKindIsSpelledAsJSON() {
        let text = CanonicalJSON.text(["b": [Int64(1), 2], "a": "x/y", "c": ["z": true, "y": 1.5, "x": Int32(-3)], "d": NSNull(), "e": [String]()])
        XCTAssertEqual(text, #"{"a":"x/y","b":[1,2],"c":{"x":-3,"y":1.5,"z":true},"d":null,"e":[]}"#)
    }

    func testStringsWithQuotesControlCharactersAndUnicodeReadBackUnchanged() throws {
        let original = "quote \" backslash \\ newline \n tab \t bell \u{07} ünïcode ✓ 𝔸"
        let text = CanonicalJSON.text(["s": original])
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        XCTAssertEqual(parsed?["s"], original)
        XCTAssertTrue(text.contains(#"\u0007"#))
    }
}
