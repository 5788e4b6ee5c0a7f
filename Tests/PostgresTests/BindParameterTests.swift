import Foundation
import Postgres
import XCTest

final class BindParameterTests: DatabaseTestCase {
    private let awkwardText = "Zoë 北京 🩻 O'Brien said \"hi\"; back\\slash, tab\tnewline\n"
    private let allBytes = (0...255).map { UInt8($0) }
    private let preciseDate = Date(timeIntervalSince1970: 1_795_860_000.123456)

    override func setUpWithError() throws {
        try super.setUpWithError()
        try connection.executeScript("""
            CREATE TABLE samples (
                id int PRIMARY KEY, text_value text, int_value bigint, int32_value int, int64_value bigint,
                double_value float8, bool_value boolean, date_value timestamptz, uuid_value uuid, bytes_value bytea
            )
            """)
    }

    private func insertSample(id: Int, _ values: [PostgresEncodable?]) throws {
        let affected = try connection.execute(
            "INSERT INTO samples VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", [id] + values)
        XCTAssertEqual(affected, 1)
    }

    func testEverySupportedTypeRoundTripsThroughBindParameters() throws {
        let uuid = UUID()
        try insertSample(id: 1, [awkwardText, Int.max, Int32.min, Int64.min, 0.1, true, preciseDate, uuid, allBytes])
        let rows = try connection.query("SELECT * FROM samples WHERE id = $1", [1])
        XCTAssertEqual(rows.count, 1)
        let row = try XCTUnwrap(rows.first)
        XCTAssertEqual(try row.decode("text_value", as: String.self), awkwardText)
        XCTAssertEqual(try row.decode("int_value", as: Int.self), Int.max)
        XCTAssertEqual(try row.decode("int32_value", as: Int32.self), Int32.min)
        XCTAssertEqual(try row.decode("int64_value", as: Int64.self), Int64.min)
        XCTAssertEqual(try row.decode("double_value", as: Double.self), 0.1)
        XCTAssertEqual(try row.decode("bool_value", as: Bool.self), true)
        XCTAssertEqual(try row.decode("date_value", as: Date.self).timeIntervalSince1970, preciseDate.timeIntervalSince1970, accuracy: 1e-6)
        XCTAssertEqual(try row.decode("uuid_value", as: UUID.self), uuid)
        XCTAssertEqual(try row.decode("bytes_value", as: [UInt8].self), allBytes)
        XCTAssertEqual(rows.columns.first, "id")
    }

    func testNullRoundTripsForEveryTypeAndDecodeRefusesIt() throws {
        try insertSample(id: 2, [String?.none, Int?.none, Int32?.none, Int64?.none, Double?.none, Bool?.none,
                                 Date?.none, UUID?.none, [UInt8]?.none])
        let row = try XCTUnwrap(connection.query("SELECT * FROM samples WHERE id = $1", [2]).first)
        XCTAssertNil(try row.decodeIfPresent("text_value", as: String.self))
        XCTAssertNil(try row.decodeIfPresent("int_value", as: Int.self))
        XCTAssertNil(try row.decodeIfPresent("date_value", as: Date.self))
        XCTAssertNil(try row.decodeIfPresent("bytes_value", as: [UInt8].self))
        XCTAssertNil(row["uuid_value"])
        XCTAssertThrowsError(try row.decode("bool_value", as: Bool.self)) { error in
            XCTAssertEqual((error as? PostgresDecodingError)?.column, "bool_value")
        }
    }

    func testNonFiniteDoublesRoundTrip() throws {
        let rows = try connection.query(
            "SELECT $1::float8 AS positive, $2::float8 AS negative, $3::float8 AS nan, $4::float8 AS tiny",
            [Double.infinity, -Double.infinity, Double.nan, -1e-300])
        let row = try XCTUnwrap(rows.first)
        XCTAssertEqual(try row.decode("positive", as: Double.self), .infinity)
        XCTAssertEqual(try row.decode("negative", as: Double.self), -.infinity)
        XCTAssertTrue(try row.decode("nan", as: Double.self).isNaN)
        XCTAssertEqual(try row.decode("tiny", as: Double.self), -1e-300)
    }

    func testDatesDecodeInAnySessionTimeZoneAndBeforeYearOne() throws {
        try connection.execute("SET TimeZone TO 'America/St_Johns'")
        let dates = [preciseDate, Date(timeIntervalSince1970: -2_208_988_800.5), Date(timeIntervalSince1970: -63_000_000_000)]
        for date in dates {
            let row = try XCTUnwrap(connection.query("SELECT $1::timestamptz AS at", [date]).first)
            XCTAssertEqual(try row.decode("at", as: Date.self).timeIntervalSince1970, date.timeIntervalSince1970, accuracy: 1e-6,
                           "server text \(row["at"] ?? "NULL")")
        }
    }

    func testSQLInjectionTextIsStoredAsData() throws {
        let hostile = "x'); DROP TABLE samples; --"
        try insertSample(id: 3, [hostile, nil, nil, nil, nil, nil, nil, nil, nil])
        let rows = try connection.query("SELECT text_value FROM samples WHERE text_value = $1", [hostile])
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows.first?["text_value"], hostile)
    }

    func testSubstringAndOptionalParametersBind() throws {
        let text = "accession A123"
        let present: Int? = 7
        let row = try XCTUnwrap(connection.query(
            "SELECT $1::text AS word, $2::int AS number", [text.split(separator: " ")[1], present]).first)
        XCTAssertEqual(row["word"], "A123")
        XCTAssertEqual(try row.decode("number", as: Int.self), 7)
    }

    func testNulCharacterInParameterIsRefusedNamingTheParameter() {
        XCTAssertThrowsError(try connection.query("SELECT $1::text, $2::text", ["fine", "bad\u{0}text"])) { error in
            XCTAssertTrue(String(describing: error).contains("$2"), "\(error)")
        }
    }

    func testUnknownColumnIsAnErrorNotANull() throws {
        let row = try XCTUnwrap(connection.query("SELECT 1 AS one").first)
        XCTAssertThrowsError(try row.decodeIfPresent("two", as: Int.self)) { error in
            XCTAssertEqual((error as? PostgresDecodingError)?.column, "two")
        }
    }

    func testAffectedRowsCountsUpdatedRows() throws {
        for id in 10..<13 { try insertSample(id: id, [nil, nil, nil, nil, nil, nil, nil, nil, nil]) }
        XCTAssertEqual(try connection.execute("UPDATE samples SET bool_value = $1 WHERE id >= $2", [false, 11]), 2)
    }
}
