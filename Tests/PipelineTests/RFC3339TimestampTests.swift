import Foundation
@testable import Pipeline
import XCTest

final class RFC3339TimestampTests: XCTestCase {
    func testParsesTheSameInstantsAsFoundationsInternetDateTimeFormatter() {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let samples = ["2026-11-28T10:00:00Z", "1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "1969-12-31T23:59:59Z",
                       "2026-11-28T11:30:00+01:30", "2026-11-28T04:00:00-06:00", "2400-03-01T00:00:00Z", "1601-01-01T12:00:00Z"]
        for text in samples {
            XCTAssertEqual(RFC3339Timestamp.parse(text), plain.date(from: text), text)
        }
        for text in ["2026-11-28T10:00:00.250Z", "2026-11-28T10:00:00.5+02:00"] {
            let parsed = try? XCTUnwrap(RFC3339Timestamp.parse(text), text)
            let reference = try? XCTUnwrap(fractional.date(from: text), text)
            XCTAssertEqual(parsed?.timeIntervalSince1970 ?? 0, reference?.timeIntervalSince1970 ?? 1, accuracy: 1e-6, text)
        }
    }

    func testKeepsSubMillisecondFractions() throws {
        let date = try XCTUnwrap(RFC3339Timestamp.parse("2026-11-28T10:00:00.123456Z"))
        XCTAssertEqual(date.timeIntervalSince1970, 1_795_860_000.123456, accuracy: 1e-6)
    }

    func testRefusesTextThatIsNotAnInternetTimestamp() {
        for text in ["yesterday", "", "2026-11-28", "2026-11-28T10:00:00", "2026-11-28 10:00:00Z", "2026-13-01T00:00:00Z",
                     "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-28T24:00:00Z",
                     "2026-11-28T10:60:00Z", "2026-11-28T10:00:61Z", "2026-11-28T10:00:00.Z", "2026-11-28T10:00:00Zjunk",
                     "2026-11-28T10:00:00+0100", "2026-11-28T10:00:00+01:00:00", "2026-1a-28T10:00:00Z", "+2026-11-28T10:00:00Z"] {
            XCTAssertNil(RFC3339Timestamp.parse(text), text)
        }
    }
}
