import Postgres
import TestSupport
import XCTest

/// A test case with its own fresh database and an open connection to it.
class DatabaseTestCase: XCTestCase {
    var databaseURL: String!
    var connection: PostgresConnection!
    private var dropDatabase: (() -> Void)?

    override func setUpWithError() throws {
        let database = try PostgresTestDatabase.create()
        databaseURL = database.url
        dropDatabase = database.drop
        connection = try PostgresConnection(url: database.url, applicationName: "radfm-tests")
    }

    override func tearDown() {
        connection?.close()
        dropDatabase?()
        super.tearDown()
    }
}
