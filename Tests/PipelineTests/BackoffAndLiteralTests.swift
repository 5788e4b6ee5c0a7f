import Pipeline
import XCTest

final class BackoffAndLiteralTests: XCTestCase {
    func testBackoffDoublesUpToTheCapAndResets() {
        var backoff = Backoff(initialMilliseconds: 100, maxMilliseconds: 1_000)
        XCTAssertEqual((0..<6).map { _ in backoff.next() }, [100, 200, 400, 800, 1_000, 1_000])
        backoff.reset()
        XCTAssertEqual(backoff.next(), 100)
        var huge = Backoff(initialMilliseconds: 1, maxMilliseconds: 5_000)
        for _ in 0..<100 { XCTAssertLessThanOrEqual(huge.next(), 5_000) }
    }

    func testArrayLiteralQuotesEveryElement() {
        XCTAssertEqual(PostgresArrayLiteral.text(["a", "b,c", "d\"e", "f\\g", "{}", "NULL"]),
                       #"{"a","b,c","d\"e","f\\g","{}","NULL"}"#)
        XCTAssertEqual(PostgresArrayLiteral.text([#""\\"#, "", "ü\"✓\"", #"{"k": "v\"w"}"#]),
                       #"{"\"\\\\","","ü\"✓\"","{\"k\": \"v\\\"w\"}"}"#)
        XCTAssertEqual(PostgresArrayLiteral.text([]), "{}")
        XCTAssertEqual(PostgresArrayLiteral.integers([Int32(0), 5, -2]), "{0,5,-2}")
    }

    func testArrayLiteralOfBindValuesSpellsNilAsNullAndQuotesByteaHex() {
        XCTAssertEqual(PostgresArrayLiteral.values(["a", nil, "NULL"] as [String?]), #"{"a",NULL,"NULL"}"#)
        XCTAssertEqual(PostgresArrayLiteral.values([[0x01, 0xAB]] as [[UInt8]]), #"{"\\x01ab"}"#)
        XCTAssertEqual(PostgresArrayLiteral.values([1.5, -2]), #"{"1.5","-2.0"}"#)
    }
}
