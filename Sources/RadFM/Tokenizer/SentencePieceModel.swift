import Foundation

/// The parts of a SentencePiece `ModelProto` (sentencepiece_model.proto) that encoding and decoding use,
/// parsed straight from the protobuf bytes of `tokenizer.model`.
struct SentencePieceModel {
    /// `SentencePiece.Type` of sentencepiece_model.proto.
    enum PieceType: UInt64 {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// All piece texts, concatenated; piece `i` is `pieceBytes[pieceStart[i] ..< pieceStart[i + 1]]`.
    private(set) var pieceBytes: [UInt8] = []
    private(set) var pieceStart: [Int] = [0]
    private(set) var scores: [Float] = []
    private(set) var types: [PieceType] = []

    // NormalizerSpec, with the proto's defaults.
    private(set) var addDummyPrefix = true
    private(set) var removeExtraWhitespaces = true
    private(set) var escapeWhitespaces = true

    // TrainerSpec fields that change encoding.
    private(set) var byteFallback = false
    private(set) var unknownID = 0
    private(set) var unknownSurface = " \u{2047} "

    var pieceCount: Int { types.count }

    func pieceRange(_ id: Int) -> Range<Int> { pieceStart[id]..<pieceStart[id + 1] }

    init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw TokenizerError(file: url.path, detail: "cannot read: \(error.localizedDescription)")
        }
        do {
            try data.withUnsafeBytes { try parseModel($0, file: url.path) }
        } catch let error as ProtobufReader.Malformed {
            throw TokenizerError(file: url.path, detail: "not a sentencepiece model: \(error.detail)")
        }
        guard pieceCount > 0 else { throw TokenizerError(file: url.path, detail: "the model has no pieces") }
        guard unknownID >= 0, unknownID < pieceCount, types[unknownID] == .unknown else {
            throw TokenizerError(file: url.path, detail: "unk_id \(unknownID) is not an unknown piece")
        }
    }

    // MARK: ModelProto

    private mutating func parseModel(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        var reader = ProtobufReader(bytes)
        var modelType: UInt64 = 1  // UNIGRAM is the proto default
        var treatWhitespaceAsSuffix = false
        var hasCharsMap = false
        while !reader.isAtEnd {
            let (number, wireType) = try reader.nextField()
            switch (number, wireType) {
            case (1, .lengthDelimited): try parsePiece(try reader.lengthDelimited())
            case (2, .lengthDelimited):
                var trainer = ProtobufReader(try reader.lengthDelimited())
                while !trainer.isAtEnd {
                    let (field, type) = try trainer.nextField()
                    switch (field, type) {
                    case (3, .varint): modelType = try trainer.varint()
                    case (24, .varint): treatWhitespaceAsSuffix = try trainer.varint() != 0
                    case (35, .varint): byteFallback = try trainer.varint() != 0
                    case (40, .varint): unknownID = Int(Int32(truncatingIfNeeded: try trainer.varint()))
                    case (44, .lengthDelimited):
                        unknownSurface = String(decoding: try trainer.lengthDelimited(), as: UTF8.self)
                    default: try trainer.skip(type)
                    }
                }
            case (3, .lengthDelimited):
                var normalizer = ProtobufReader(try reader.lengthDelimited())
                while !normalizer.isAtEnd {
                    let (field, type) = try normalizer.nextField()
                    switch (field, type) {
                    case (2, .lengthDelimited): hasCharsMap = !(try normalizer.lengthDelimited()).isEmpty
                    case (3, .varint): addDummyPrefix = try normalizer.varint() != 0
                    case (4, .varint): removeExtraWhitespaces = try normalizer.varint() != 0
                    case (5, .varint): escapeWhitespaces = try normalizer.varint() != 0
                    default: try normalizer.skip(type)
                    }
                }
            default: try reader.skip(wireType)
            }
        }
        // LLaMA's model is BPE with the identity normalizer; the Unicode normalization rules of a precompiled
        // charsmap and the suffix-whitespace mode are not implemented, so such models are refused rather than
        // tokenized slightly wrong.
        guard modelType == 2 else {
            throw TokenizerError(file: file, detail: "model type \(modelType) is not BPE (2)")
        }
        guard !hasCharsMap else {
            throw TokenizerError(file: file, detail: "normalizers with a precompiled charsmap are not supported")
        }
        guard !treatWhitespaceAsSuffix else {
            throw TokenizerError(file: file, detail: "treat_whitespace_as_suffix is not supported")
        }
    }

    private mutating func parsePiece(_ bytes: UnsafeRawBufferPointer) throws {
        var reader = ProtobufReader(bytes)
        var text: UnsafeRawBufferPointer?
        var score: Float = 0
        var type = PieceType.normal
        while !reader.isAtEnd {
            let (number, wireType) = try reader.nextField()
            switch (number, wireType) {
            case (1, .lengthDelimited): text = try reader.lengthDelimited()
            case (2, .fixed32): score = try reader.float32()
            case (3, .varint):
                let raw = try reader.varint()
                guard let known = PieceType(rawValue: raw) else {
                    throw ProtobufReader.Malformed(detail: "piece \(pieceCount) has unknown type \(raw)")
                }
                type = known
            default: try reader.skip(wireType)
            }
        }
        pieceBytes.append(contentsOf: text ?? UnsafeRawBufferPointer(start: nil, count: 0))
        pieceStart.append(pieceBytes.count)
        scores.append(score)
        types.append(type)
    }
}
