import Foundation
import RadFM

/// A sample as the model trains on it: ids with bos first and eos last, and the next-token labels.
public struct EncodedSample: Equatable, Sendable {
    public var inputIds: [Int32]
    /// Same length as `inputIds`; `ignoredLabel` where the loss must not look (question, padding, ids >= vocab).
    public var labels: [Int32]
    public var images: [URL]

    public static let ignoredLabel: Int32 = -100

    public init(inputIds: [Int32], labels: [Int32], images: [URL]) {
        precondition(inputIds.count == labels.count, "one label per id")
        self.inputIds = inputIds
        self.labels = labels
        self.images = images
    }

    /// Positions whose label counts in the loss.
    public var supervisedTokenCount: Int { labels.lazy.filter { $0 != Self.ignoredLabel }.count }
}

/// Turns manifest samples into ids and labels exactly as RadFM's `multi_dataset.__getitem__` does.
public struct SampleEncoder: Sendable {
    public let tokenizer: RadFMTokenizer
    public let tokensPerImage: Int
    public let maxImages: Int
    /// Ids at or above this are image markup and never supervised (RadFM's `voc_size`, 32000).
    public let vocabularySize: Int
    /// RadFM's `max_seq`: text is truncated to this many ids, bos included.
    public let maxSequenceLength: Int

    public init(tokenizer: RadFMTokenizer, config: RadFMConfig) {
        self.init(tokenizer: tokenizer, tokensPerImage: config.tokensPerImage, maxImages: config.maxImages,
                  vocabularySize: config.text.vocabSize, maxSequenceLength: config.text.maxPositionEmbeddings)
    }

    public init(tokenizer: RadFMTokenizer, tokensPerImage: Int, maxImages: Int, vocabularySize: Int,
                maxSequenceLength: Int) {
        self.tokenizer = tokenizer
        self.tokensPerImage = tokensPerImage
        self.maxImages = maxImages
        self.vocabularySize = vocabularySize
        self.maxSequenceLength = maxSequenceLength
    }

    public func encode(_ sample: ManifestSample) throws -> EncodedSample {
        guard sample.images.count <= maxImages else {
            throw TrainingDataError.tooManyImages(
                path: sample.manifestPath, line: sample.line, count: sample.images.count, limit: maxImages)
        }
        let (question, answer) = try textsWithMarkup(sample)
        var ids = Array(tokenizer.encode(question + " " + answer).prefix(maxSequenceLength))
        // RadFM writes eos into the first padding slot, so a sequence already at max_seq gets none.
        if ids.count < maxSequenceLength { ids.append(RadFMTokenizer.eos) }
        // The question is tokenised on its own, as RadFM measures it, not located inside the joint encoding.
        let questionLength = min(tokenizer.encode(question).count, maxSequenceLength)
        let padding = RadFMTokenizer.pad, vocabularySize = Int32(self.vocabularySize)
        var labels = ids
        for index in labels.indices
        where index < questionLength || labels[index] == padding || labels[index] >= vocabularySize {
            labels[index] = EncodedSample.ignoredLabel
        }
        return EncodedSample(inputIds: ids, labels: labels, images: sample.images.map(\.url))
    }

    /// RadFM's `text_add_image`: image k's markup goes before character max(position - 1, 0) of its text,
    /// images at the same character in list order; then every '•' is removed from the answer.
    public func textsWithMarkup(_ sample: ManifestSample) throws -> (question: String, answer: String) {
        var inQuestion: [Int: [Int]] = [:], inAnswer: [Int: [Int]] = [:]
        let questionLength = sample.question.unicodeScalars.count
        let answerLength = sample.answer.unicodeScalars.count
        for (index, image) in sample.images.enumerated() {
            let length = image.placement == .question ? questionLength : answerLength
            let location = max(image.position - 1, 0)
            // RadFM indexes a per-character list here, so a position past the text is an IndexError there.
            guard location < length else {
                throw TrainingDataError.imagePositionOutOfRange(
                    path: sample.manifestPath, line: sample.line, image: index, position: image.position,
                    textLength: length)
            }
            if image.placement == .question {
                inQuestion[location, default: []].append(index)
            } else {
                inAnswer[location, default: []].append(index)
            }
        }
        let question = insert(inQuestion, into: sample.question)
        let answer = insert(inAnswer, into: sample.answer).replacingOccurrences(of: "\u{2022}", with: "")
        return (question, answer)
    }

    private func insert(_ imagesAt: [Int: [Int]], into text: String) -> String {
        guard !imagesAt.isEmpty else { return text }
        var result = String.UnicodeScalarView()
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            for image in imagesAt[offset] ?? [] { result.append(contentsOf: markup(image: image).unicodeScalars) }
            result.append(scalar)
        }
        return String(result)
    }

    private func markup(image: Int) -> String {
        var text = "<image>"
        for token in image * tokensPerImage..<(image + 1) * tokensPerImage { text += "<image\(token)>" }
        return text + "</image>"
    }
}
