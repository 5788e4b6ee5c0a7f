import Foundation

/// RadFM's tokenizer: LLaMA's SentencePiece BPE plus the 3,202 special tokens RadFM adds for image markup,
/// behaving as the transformers 4.28 slow `LlamaTokenizer` RadFM was trained with:
///
/// - `<image>` (32000), `</image>` (32001) and `<image0>`…`<image3199>` (32002…35201) are split out of the text
///   first; white space on both sides of each is stripped (Python's `str.strip` set);
/// - every remaining chunk is encoded by SentencePiece on its own, so each gets its own dummy-prefix space;
/// - `<s>`, `</s>`, `<unk>` and `<image3200>` written in the text are ordinary text.
public final class RadFMTokenizer: Sendable {
    public static let pad: Int32 = 0
    public static let bos: Int32 = 1
    public static let eos: Int32 = 2
    public static let imageStart: Int32 = 32000
    public static let imageEnd: Int32 = 32001
    public static let firstImagePatch: Int32 = 32002
    /// `<image0>` … `<image3199>`: 100 images of 32 visual tokens.
    public static let imagePatchTokenCount = 3200

    private static let baseVocabularySize = 32000

    let sentencePiece: SentencePieceBPE

    public init(modelFile: URL) throws {
        let model = try SentencePieceModel(contentsOf: modelFile)
        guard model.pieceCount == Self.baseVocabularySize else {
            throw TokenizerError(
                file: modelFile.path,
                detail: "has \(model.pieceCount) pieces; RadFM's added tokens start at id \(Self.baseVocabularySize)")
        }
        sentencePiece = SentencePieceBPE(model: model)
    }

    /// SentencePiece pieces plus the added image tokens: 35,202.
    public var vocabularySize: Int { Self.baseVocabularySize + 2 + Self.imagePatchTokenCount }

    /// The token for visual token `index` of a sample (`<image{index}>`).
    public static func imagePatch(_ index: Int) -> Int32 {
        precondition(index >= 0 && index < imagePatchTokenCount, "image patch token \(index) does not exist")
        return firstImagePatch + Int32(index)
    }

    public func encode(_ text: String, addBOS: Bool = true) -> [Int32] {
        var output: [Int32] = addBOS ? [Self.bos] : []
        var utf8 = Array(text.utf8)
        utf8.withUnsafeMutableBufferPointer { bytes in
            let text = UnsafeBufferPointer(bytes)
            let specials = AddedTokenMatcher.matches(in: text)
            var chunkStart = 0
            for (index, special) in specials.enumerated() {
                encodeChunk(
                    text, chunkStart..<special.range.lowerBound, stripLeading: index > 0, stripTrailing: true,
                    into: &output)
                output.append(special.id)
                chunkStart = special.range.upperBound
            }
            encodeChunk(
                text, chunkStart..<text.count, stripLeading: !specials.isEmpty, stripTrailing: false, into: &output)
        }
        return output
    }

    private func encodeChunk(
        _ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, stripLeading: Bool, stripTrailing: Bool,
        into output: inout [Int32]
    ) {
        let chunk = PythonWhitespace.strip(text, range, leading: stripLeading, trailing: stripTrailing)
        guard !chunk.isEmpty else { return }
        sentencePiece.encode(UnsafeBufferPointer(rebasing: text[chunk]), into: &output)
    }

    /// The text of `ids`, as transformers 4.28 decodes for RadFM. With `skipSpecialTokens` (what RadFM's
    /// generation uses) unk/pad, bos, eos and the image tokens are dropped and the rest is SentencePiece's
    /// decoding. Without it, those tokens are written out with 4.28's spacing: added tokens joined to the text
    /// around them by single spaces, `<s>`/`</s>`/`<unk>` preceded by a space unless they follow one another.
    /// Ids outside the vocabulary produce nothing.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = true) -> String {
        var segments: [String] = []
        var run: [Int32] = []
        func flushRun() {
            guard !run.isEmpty else { return }
            segments.append(skipSpecialTokens ? pieceText(run) : textWithSentencePieceSpecials(run))
            run.removeAll(keepingCapacity: true)
        }
        for id in ids {
            if id >= 0, Int(id) < Self.baseVocabularySize {
                if skipSpecialTokens && Self.isSentencePieceSpecial(id) { continue }
                run.append(id)
            } else if !skipSpecialTokens, let text = AddedTokenMatcher.text(of: id) {
                flushRun()
                segments.append(text)
            }
        }
        flushRun()
        return segments.joined(separator: " ")
    }

    private static func isSentencePieceSpecial(_ id: Int32) -> Bool { id == pad || id == bos || id == eos }

    private func pieceText(_ ids: [Int32]) -> String {
        String(decoding: sentencePiece.decode(ids), as: UTF8.self)
    }

    /// transformers 4.28 `LlamaTokenizer.convert_tokens_to_string`: `<unk>`, `<s>` and `</s>` are written as
    /// their piece text between separately decoded runs.
    private func textWithSentencePieceSpecials(_ ids: [Int32]) -> String {
        var text = ""
        var pending: [Int32] = []
        var previousWasSpecial = false
        for (index, id) in ids.enumerated() {
            if Self.isSentencePieceSpecial(id) {
                if !previousWasSpecial && index != 0 { text += " " }
                text += pieceText(pending) + sentencePiece.piece(id)
                pending.removeAll(keepingCapacity: true)
                previousWasSpecial = true
            } else {
                pending.append(id)
                previousWasSpecial = false
            }
        }
        return text + pieceText(pending)
    }
}
