import Foundation
import XCTest
@testable import Imaging

/// A seeded mutation loop over the real test files: every mutant must decode or fail with a typed error
/// naming it, never crash. RADFM_FUZZ_ITERATIONS sets the count (the full run uses 100000 under
/// AddressSanitizer; see the report/README for the command); RADFM_FUZZ_SEED the seed.
final class DicomFuzzTests: XCTestCase {
    /// SplitMix64: reproducible from the seed on every platform.
    private struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testMutatedRealFilesGiveTypedErrorsAndNeverCrash() throws {
        let environment = ProcessInfo.processInfo.environment
        let iterations = Int(environment["RADFM_FUZZ_ITERATIONS"] ?? "") ?? 500
        var generator = SeededGenerator(state: UInt64(environment["RADFM_FUZZ_SEED"] ?? "") ?? 20261128)
        // Small files keep each iteration fast; every transfer syntax family is among them.
        let seeds = try PydicomReference.all().filter { $0.pixels != nil }.map(\.path).filter {
            ((try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? Int.max) ?? Int.max < 150_000
        }.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        XCTAssertGreaterThan(seeds.count, 40)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dicom-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("mutant.dcm").path
        let limits = DicomLimits(maxRows: 4096, maxColumns: 4096, maxFrames: 512, maxTotalBytes: 256 << 20)

        var decoded = 0, refused = 0
        for _ in 0..<iterations {
            var bytes = [UInt8](seeds[Int.random(in: 0..<seeds.count, using: &generator)])
            mutate(&bytes, using: &generator)
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            do {
                _ = try DicomReader.decode(path: path, limits: limits)
                decoded += 1
            } catch let error as DicomError {
                XCTAssertEqual(error.path, path)
                refused += 1
            }
        }
        XCTAssertEqual(decoded + refused, iterations)
    }

    /// One to four edits: flipped bits, random bytes, large values written where lengths often sit,
    /// cut tails, or a duplicated block.
    private func mutate(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        for _ in 0..<Int.random(in: 1...4, using: &generator) where bytes.count > 140 {
            let position = Int.random(in: 128..<bytes.count, using: &generator)
            switch Int.random(in: 0..<5, using: &generator) {
            case 0:
                bytes[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
            case 1:
                bytes[position] = UInt8.random(in: 0...255, using: &generator)
            case 2:
                let value: [UInt8] = [[0xFF, 0xFF, 0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0x7F], [0, 0, 0, 0], [0xFE, 0xFF, 0, 0]]
                    .randomElement(using: &generator)!
                for (offset, byte) in value.enumerated() where position + offset < bytes.count { bytes[position + offset] = byte }
            case 3:
                bytes.removeSubrange(position...)
            default:
                let length = min(Int.random(in: 1...64, using: &generator), bytes.count - position)
                bytes.insert(contentsOf: bytes[position..<(position + length)], at: position)
            }
        }
    }
}
