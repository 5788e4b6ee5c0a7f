import RadBench
import XCTest

final class RougeTokenizerTests: XCTestCase {
    func testNonAlphanumericRunsSeparateAndCaseFolds() {
        var tokenizer = RougeTokenizer(usesStemmer: false)
        XCTAssertEqual(tokenizer.tokenize("No PTX; 5-mm nodule (RLL)."), ["no", "ptx", "5", "mm", "nodule", "rll"])
        XCTAssertEqual(tokenizer.tokenize("Ödem naïve"), ["dem", "na", "ve"])
        XCTAssertEqual(tokenizer.tokenize(""), [])
    }

    func testOnlyWordsLongerThanThreeCharactersAreStemmed() {
        var tokenizer = RougeTokenizer(usesStemmer: true)
        XCTAssertEqual(tokenizer.tokenize("ties lies effusions was"), ["tie", "lie", "effus", "was"])
    }

    /// Python lowercases before dropping non-[a-z0-9]; the tokenizer hard-codes the two non-ASCII characters
    /// whose lowercase form contains an ASCII letter. Scanning every scalar proves the table is complete.
    func testOnlyKelvinSignAndDottedCapitalIHaveASCIILowercaseLetters() {
        var found: [UInt32] = []
        for value in UInt32(0x80)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            if scalar.properties.lowercaseMapping.unicodeScalars.contains(where: { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }) {
                found.append(value)
            }
        }
        XCTAssertEqual(found, [0x130, 0x212A])
        var tokenizer = RougeTokenizer(usesStemmer: false)
        XCTAssertEqual(tokenizer.tokenize("\u{212A}elvin \u{130}stanbul"), ["kelvin", "i", "stanbul"])
    }
}
