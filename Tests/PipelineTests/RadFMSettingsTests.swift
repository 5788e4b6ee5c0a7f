import Foundation
import Pipeline
import XCTest

final class RadFMSettingsTests: XCTestCase {
    static var documentedDefaults: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Config/radfm.yaml")
    }

    func testDocumentedConfigFileEqualsTheBuiltInDefaults() throws {
        XCTAssertEqual(try RadFMSettings.load(file: Self.documentedDefaults.path, environment: [:]), RadFMSettings())
    }

    func testEnvironmentOverridesTheFile() throws {
        let settings = try RadFMSettings.load(file: Self.documentedDefaults.path, environment: [
            "RADFM_DATABASE_URL": "postgresql://db/radfm", "RADFM_KAFKA_BROKERS": "k1:9092,k2:9092", "RADFM_KAFKA_GROUP": "g",
            "RADFM_TOPIC": "t", "RADFM_STORAGE_ROOTS": "archive=/data/a, pacs=/data/p", "RADFM_MODEL": "/models/radfm",
            "RADFM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "RADFM_KAFKA_SASL_MECHANISMS": "SCRAM-SHA-512",
        ])
        XCTAssertEqual(settings.databaseURL, "postgresql://db/radfm")
        XCTAssertEqual(settings.kafkaBrokers, "k1:9092,k2:9092")
        XCTAssertEqual(settings.kafkaGroup, "g")
        XCTAssertEqual(settings.topic, "t")
        XCTAssertEqual(settings.deadLetterTopic, "t.dlq")
        XCTAssertEqual(settings.storageRoots, ["archive": "/data/a", "pacs": "/data/p"])
        XCTAssertEqual(settings.modelDirectory, "/models/radfm")
        XCTAssertEqual(settings.kafkaSettings, ["security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-512"])
    }

    func testEmptyKafkaPassThroughVariableIsUnsetNotAnEmptySetting() throws {
        let settings = try RadFMSettings.load(file: nil, environment: [
            "RADFM_KAFKA_QUEUED_MIN_MESSAGES": "", "RADFM_KAFKA_SECURITY_PROTOCOL": "SSL",
        ])
        XCTAssertEqual(settings.kafkaSettings, ["security.protocol": "SSL"])
    }

    func testMisspeltKeyIsAnErrorNotSilentlyIgnored() {
        var settings = RadFMSettings()
        XCTAssertThrowsError(try settings.apply(yaml: "pipeline:\n  batch_sise: 4\n", source: "x.yaml")) { error in
            XCTAssertEqual("\(error)", "x.yaml: pipeline: unknown key batch_sise")
        }
    }

    func testBadValuesNameTheKey() {
        var settings = RadFMSettings()
        XCTAssertThrowsError(try settings.apply(yaml: "pipeline:\n  batch_size: 0\n", source: "x.yaml")) { error in
            XCTAssertTrue("\(error)".contains("pipeline.batch_size must be positive"))
        }
        var fresh = RadFMSettings()
        XCTAssertThrowsError(try fresh.apply(yaml: "pipeline:\n  decode_concurrency: 0\n", source: "x.yaml")) { error in
            XCTAssertTrue("\(error)".contains("pipeline.decode_concurrency must be positive"))
        }
        XCTAssertThrowsError(try RadFMSettings.parseStorageRoots("archive=relative/path"))
    }

    func testDecodeConcurrencyIsReadFromThePipelineSection() throws {
        var settings = RadFMSettings()
        try settings.apply(yaml: "pipeline:\n  decode_concurrency: 4\n", source: "x.yaml")
        XCTAssertEqual(settings.decodeConcurrency, 4)
    }

    func testMissingDatabaseGivesOneClearLine() {
        XCTAssertThrowsError(try RadFMSettings().requireDatabaseURL()) { error in
            XCTAssertTrue("\(error)".hasPrefix("no database configured"))
        }
    }
}
