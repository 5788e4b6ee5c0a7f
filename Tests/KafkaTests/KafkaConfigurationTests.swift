import Kafka
import TestSupport
import XCTest

final class KafkaConfigurationTests: XCTestCase {
    func testFromEnvironmentMapsBrokersAndPassesOtherSettingsThroughLowercasedWithDots() throws {
        let configuration = try XCTUnwrap(KafkaConfiguration.fromEnvironment([
            "RADFM_KAFKA_BROKERS": "kafka-1:9092,kafka-2:9092",
            "RADFM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "RADFM_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "RADFM_KAFKA_GROUP": "radfm-workers",
            "RADFM_DATABASE_URL": "postgres://db/radfm",
            "PATH": "/usr/bin",
        ]))
        XCTAssertEqual(configuration.settings, [
            "bootstrap.servers": "kafka-1:9092,kafka-2:9092",
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
        ])
        XCTAssertEqual(configuration.brokers, "kafka-1:9092,kafka-2:9092")
    }

    func testFromEnvironmentWithoutBrokersIsNil() {
        XCTAssertNil(KafkaConfiguration.fromEnvironment(["RADFM_KAFKA_SECURITY_PROTOCOL": "SSL"]))
        XCTAssertNil(KafkaConfiguration.fromEnvironment(["RADFM_KAFKA_BROKERS": ""]))
    }

    func testUnknownConfigurationKeyGivesErrorNamingTheKey() {
        let configuration = KafkaConfiguration(brokers: "127.0.0.1:1", settings: ["no.such.property": "1"])
        XCTAssertThrowsError(try KafkaProducer(configuration: configuration, logger: .kafkaTest("config"))) { error in
            let kafkaError = error as? KafkaError
            XCTAssertNotNil(kafkaError)
            XCTAssertTrue(kafkaError?.message.contains("'no.such.property'") ?? false, "\(error)")
            XCTAssertEqual(kafkaError?.isRetriable, false)
        }
    }

    func testInvalidConfigurationValueGivesErrorNamingTheKey() {
        let configuration = KafkaConfiguration(brokers: "127.0.0.1:1", settings: ["session.timeout.ms": "soon"])
        XCTAssertThrowsError(try KafkaConsumer(
            configuration: configuration, groupID: "g", topics: ["t"], listener: nil, logger: .kafkaTest("config")
        )) { error in
            XCTAssertTrue((error as? KafkaError)?.message.contains("'session.timeout.ms'") ?? false, "\(error)")
        }
    }

    func testKafkaErrorDescriptionCarriesNameCodeAndFlags() {
        let error = KafkaError(code: -195, name: "_TRANSPORT", message: "producing to t[0]: broker down", isRetriable: true, isFatal: false)
        XCTAssertEqual(error.description, "KafkaError _TRANSPORT (-195): producing to t[0]: broker down [retriable]")
    }
}
