import Foundation
import XCTest

/// The Kafka-protocol broker that integration tests use, named by `RADFM_TEST_KAFKA_BROKERS`
/// (Deploy/local/test.sh starts one and sets it). Without it tests are skipped, except in CI
/// (env `CI` set), where a missing broker is a failure.
public enum KafkaTestBroker {
    public static let variable = "RADFM_TEST_KAFKA_BROKERS"

    public static func brokers(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let brokers = environment[variable], !brokers.isEmpty { return brokers }
        let message = "\(variable) is not set: no Kafka broker to test against"
        if environment["CI"] != nil {
            XCTFail(message + " (required in CI)", file: file, line: line)
            throw MissingServer(description: message)
        }
        throw XCTSkip(message, file: file, line: line)
    }

    struct MissingServer: Error, CustomStringConvertible { let description: String }
}
