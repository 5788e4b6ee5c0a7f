import Foundation
import Postgres
import XCTest

final class SHA256Tests: XCTestCase {
    func testFIPSShortMessageVectors() {
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testFIPSOneMillionAVector() {
        XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testEveryPaddingBoundaryAgreesWithSha256sum() throws {
        // 55, 56 and 64 bytes switch between one and two padding blocks.
        for length in [55, 56, 63, 64, 65] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37) }
            XCTAssertEqual(SHA256.hex(bytes), try sha256sum(bytes), "length \(length)")
        }
    }

    func testRandomMebibyteAgreesWithSha256sum() throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        XCTAssertEqual(SHA256.hex(bytes), try sha256sum(bytes))
        XCTAssertEqual(SHA256.hash(bytes).count, 32)
    }

    private func sha256sum(_ bytes: [UInt8]) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sha256-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return String(text.prefix(64))
    }
}

final class SHA256HasherTests: XCTestCase {
    func testIncrementalUpdatesInAnyChunkingEqualOneShot() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let expected = SHA256.hash(bytes)
        for chunk in [1, 3, 63, 64, 65, 1000, 9_999] {
            var hasher = SHA256.Hasher()
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunk)
                hasher.update(Array(bytes[offset..<end]))
                offset = end
            }
            XCTAssertEqual(hasher.finalize(), expected, "chunk \(chunk)")
        }
    }
}
