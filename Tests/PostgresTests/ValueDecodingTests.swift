import Foundation
import Postgres
import XCTest

/// Text forms PostgreSQL prints, decoded without a server.
final class ValueDecodingTests: XCTestCase {
    private func seconds(_ text: String) throws -> Double {
        try Date(postgresText: text).timeIntervalSince1970
    }

    func testTimestampsWithEveryOffsetFormDecodeToTheSameInstant() throws {
        let instant = 1_795_860_000.5  // 2026-11-28 10:00:00.5 UTC
        XCTAssertEqual(try seconds("2026-11-28 10:00:00.5+00"), instant)
        XCTAssertEqual(try seconds("2026-11-28 15:30:00.5+05:30"), instant)
        XCTAssertEqual(try seconds("2026-11-28 06:29:08.5-03:30:52"), instant)
        XCTAssertEqual(try seconds("2026-11-28T10:00:00.500000Z"), instant)
        XCTAssertEqual(try seconds("2026-11-28 10:00:00.5"), instant)
        XCTAssertEqual(try seconds("2026-11-28"), instant - 36_000.5)
    }

    func testBCAndFiveDigitYearsDecode() throws {
        XCTAssertEqual(try seconds("0001-01-01 00:00:00+00 BC"), -62_167_219_200)
        XCTAssertEqual(try seconds("10000-01-01 00:00:00+00"), 253_402_300_800)
    }

    func testDatesEncodeAsISO8601UTCWithMicroseconds() {
        XCTAssertEqual(Date(timeIntervalSince1970: 1_795_860_000.123456).postgresText, "2026-11-28T10:00:00.123456Z")
        XCTAssertEqual(Date(timeIntervalSince1970: -0.25).postgresText, "1969-12-31T23:59:59.750000Z")
        XCTAssertEqual(Date(timeIntervalSince1970: -62_167_219_200).postgresText, "0001-01-01T00:00:00.000000Z BC")
    }

    func testMalformedValuesAreRefused() {
        for text in ["infinity", "2026-13-01 00:00:00+00", "2026-11-28 10:00", "2026-11-28 10:00:00+0", "yesterday"] {
            XCTAssertThrowsError(try Date(postgresText: text), text)
        }
        XCTAssertThrowsError(try [UInt8](postgresText: "\\x0"))
        XCTAssertThrowsError(try [UInt8](postgresText: "\\000"))
        XCTAssertThrowsError(try Int32(postgresText: "2147483648"))
        XCTAssertThrowsError(try Bool(postgresText: "yes"))
        XCTAssertThrowsError(try UUID(postgresText: "not-a-uuid"))
    }

    func testByteaEncodesAsHexAndDecodesEitherCase() throws {
        XCTAssertEqual([UInt8]([0x00, 0xab, 0xff]).postgresText, "\\x00abff")
        XCTAssertEqual(try [UInt8](postgresText: "\\x00ABff"), [0x00, 0xab, 0xff])
        XCTAssertEqual(try [UInt8](postgresText: "\\x"), [])
    }
}
