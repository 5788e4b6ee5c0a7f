import Foundation
import XCTest

@testable import RadFM

/// LLaMA's `tokenizer.model` from shared/radfm, and the reference vectors in Fixtures/ (see Fixtures/README.md).
enum TokenizerFixtures {
    /// shared/ sits beside the repository (CI lays it there); /work/shared is the developers' copy.
    static func modelFile() throws -> URL {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [
            repository.deletingLastPathComponent().appendingPathComponent("shared/radfm/tokenizer.model"),
            URL(fileURLWithPath: "/work/shared/radfm/tokenizer.model"),
        ]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw TokenizerError(file: candidates[0].path, detail: "LLaMA tokenizer.model not found (shared/radfm)")
        }
        return found
    }

    /// One tokenizer for the whole test run: loading parses 32,000 pieces.
    static let tokenizer: Result<RadFMTokenizer, Error> = Result { try RadFMTokenizer(modelFile: try modelFile()) }

    struct EncodeCase: Decodable {
        let text: String
        let ids: [Int32]
    }

    struct DecodeCase: Decodable {
        let ids: [Int32]
        let text: String
    }

    static func jsonLines<T: Decodable>(_ name: String, as type: T.Type) throws -> [T] {
        let data = try Data(contentsOf: CheckpointFixtures.url(name))
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(T.self, from: Data($0)) }
    }

    /// llama.cpp's tokenizer test: inputs separated by "\n__ggml_vocab_test__\n", one line of ids per input.
    static func llamaCppCases() throws -> [EncodeCase] {
        let inputs = try String(contentsOf: CheckpointFixtures.url("ggml-vocab-llama-spm.gguf.inp"), encoding: .utf8)
            .components(separatedBy: "\n__ggml_vocab_test__\n").dropLast()
        let outputs = try String(contentsOf: CheckpointFixtures.url("ggml-vocab-llama-spm.gguf.out"), encoding: .utf8)
            .components(separatedBy: "\n").dropLast()
        XCTAssertEqual(inputs.count, outputs.count)
        return zip(inputs, outputs).map { input, output in
            EncodeCase(text: input, ids: output.split(separator: " ").map { Int32($0)! })
        }
    }
}
