import RadFM
import Tensor

/// One sample ready for the model: ids, labels (same length, `EncodedSample.ignoredLabel` where masked)
/// and its preprocessed images, each [3, H, W, D].
public struct TrainingExample {
    public var inputIds: [Int32]
    public var labels: [Int32]
    public var images: [Tensor]

    public init(inputIds: [Int32], labels: [Int32], images: [Tensor]) {
        self.inputIds = inputIds
        self.labels = labels
        self.images = images
    }

    /// Labels the next-token loss counts: position t predicts label t + 1, so the first label never counts.
    public var supervisedTargetCount: Int { labels.dropFirst().lazy.filter { $0 != EncodedSample.ignoredLabel }.count }
}

/// Summed next-token cross-entropy and the number of labels it covers.
public struct BatchLoss: Equatable, Sendable {
    public var sum: Double
    public var count: Int

    public var mean: Double { count == 0 ? 0 : sum / Double(count) }
}

/// The whole RadFM network, forward and backward, over a model's parameters: ViT -> perceiver -> fc per
/// image, fused token embedding, LLaMA, lm_head, and RadFM's loss. Gradients go into the ParameterSet's
/// buffers (frozen parameters have none and are skipped).
public final class RadFMTrainingGraph {
    public let config: RadFMConfig
    let vision: VisionEncoderPass
    let perceiver: PerceiverPass
    let projection: LinearLayer
    let tokens: ParameterSlot
    let figureTokens: ParameterSlot
    let language: LlamaPass
    /// Whether anything before the visual tokens is trained; if not, their gradient is not computed.
    let trainsVisionPath: Bool

    public init(config: RadFMConfig, parameters: ParameterSet) throws {
        self.config = config
        let hidden = config.text.hiddenSize
        vision = try VisionEncoderPass(parameters, config: config.vision)
        perceiver = try PerceiverPass(parameters, dim: config.vision.dim, config: config.perceiver)
        projection = try LinearLayer(parameters, "embedding_layer.fc", in: config.vision.dim, out: hidden, bias: true)
        tokens = try ParameterSlot(parameters, "embedding_layer.weight", count: config.text.vocabSize * hidden)
        figureTokens = try ParameterSlot(parameters, "embedding_layer.figure_token_weight", count: 2 * hidden)
        language = try LlamaPass(parameters, config: config.text)
        let visionPrefixes = ["embedding_layer.vision_encoder.", "embedding_layer.perceiver.", "embedding_layer.fc."]
        trainsVisionPath = parameters.trainable.contains { p in visionPrefixes.contains(where: p.key.hasPrefix) }
    }

    /// The loss of a batch without gradients; without a dropout draw (evaluation) nothing is dropped.
    public func loss(_ batch: [TrainingExample], dropout: DropoutDraw? = nil) throws -> BatchLoss {
        try run(batch, gradientScale: nil, dropout: dropout)
    }

    /// Adds `gradientScale` times the gradient of the summed token loss to every trainable parameter's
    /// gradient and returns the loss. For the mean over a step's labels, pass 1 / (labels in the step).
    /// `dropout` fixes the masks of the config's vision dropout; nil trains without dropout.
    @discardableResult
    public func accumulateGradients(_ batch: [TrainingExample], gradientScale: Float,
                                    dropout: DropoutDraw? = nil) throws -> BatchLoss {
        try run(batch, gradientScale: gradientScale, dropout: dropout)
    }

    private struct ImageRecord {
        let vision: VisionEncoderPass.Record
        let perceiver: PerceiverPass.Record
        let resampled: Tensor
    }

    private func run(_ batch: [TrainingExample], gradientScale: Float?, dropout: DropoutDraw?) throws -> BatchLoss {
        let hidden = config.text.hiddenSize, vocabulary = config.text.vocabSize
        let latentsPerImage = config.perceiver.numLatents
        var visualTokens: [Tensor?] = []
        var imageRecords: [[ImageRecord]] = []
        var segments: [Range<Int>] = []
        var start = 0
        var batchImage = 0
        for (index, example) in batch.enumerated() {
            guard example.inputIds.count == example.labels.count, !example.inputIds.isEmpty else {
                throw TrainingModelError.invalidSample(sample: index, reason: "ids and labels differ in length or are empty")
            }
            guard example.inputIds.count <= config.text.maxPositionEmbeddings else {
                throw RadFMModelError.sequenceTooLong(sample: index, length: example.inputIds.count,
                                                      limit: config.text.maxPositionEmbeddings)
            }
            if let label = example.labels.first(where: { $0 != EncodedSample.ignoredLabel && ($0 < 0 || Int($0) >= vocabulary) }) {
                throw TrainingModelError.invalidSample(sample: index, reason: "label \(label) outside the text vocabulary")
            }
            guard example.images.count <= config.maxImages else {
                throw RadFMModelError.tooManyImages(sample: index, count: example.images.count, limit: config.maxImages)
            }
            var records: [ImageRecord] = []
            let sampleTokens = example.images.isEmpty ? nil
                : Tensor(zeros: [example.images.count * latentsPerImage, hidden])
            for (imageIndex, image) in example.images.enumerated() {
                let (features, visionRecord) = try vision.forward(image, index: imageIndex,
                                                                  dropout: dropout?.forImage(batchImage))
                batchImage += 1
                let (resampled, perceiverRecord) = perceiver.forward(features)
                LinearOp.forward(resampled.data, rows: latentsPerImage, inFeatures: projection.inFeatures,
                                 weight: projection.weight.values, outFeatures: hidden, bias: projection.bias?.values,
                                 into: sampleTokens!.row(imageIndex * latentsPerImage))
                records.append(ImageRecord(vision: visionRecord, perceiver: perceiverRecord, resampled: resampled))
            }
            for id in example.inputIds where EmbeddingOp.source(
                of: id, vocabulary: vocabulary, visualTokenCount: sampleTokens?.rows ?? 0) == nil {
                throw RadFMModelError.visualTokenOutOfRange(sample: index, tokenId: id, visualTokens: sampleTokens?.rows ?? 0)
            }
            visualTokens.append(sampleTokens)
            imageRecords.append(records)
            segments.append(start..<start + example.inputIds.count)
            start += example.inputIds.count
        }

        let x = Tensor(zeros: [start, hidden])
        for (index, example) in batch.enumerated() {
            EmbeddingOp.forward(example.inputIds, tables: tables(visualTokens[index]),
                                into: x.row(segments[index].lowerBound))
        }
        let (logits, record) = language.forward(x, segments: segments)

        var targets = [Int32](repeating: EncodedSample.ignoredLabel, count: start)
        for (index, example) in batch.enumerated() {
            for t in 0..<example.labels.count - 1 { targets[segments[index].lowerBound + t] = example.labels[t + 1] }
        }
        let count = targets.lazy.filter { $0 != EncodedSample.ignoredLabel }.count
        guard let gradientScale else {
            let sum = CrossEntropyOp.forwardBackward(logits.data, rows: start, vocabulary: vocabulary, targets: targets,
                                                     scale: 0, dLogits: nil)
            return BatchLoss(sum: sum, count: count)
        }
        let dLogits = Tensor(zeros: logits.shape)
        let sum = CrossEntropyOp.forwardBackward(logits.data, rows: start, vocabulary: vocabulary, targets: targets,
                                                 scale: gradientScale, dLogits: dLogits.data)
        let dx = language.backward(dLogits, record: record)

        for (index, example) in batch.enumerated() {
            let dVisual = trainsVisionPath ? visualTokens[index].map { Tensor(zeros: $0.shape) } : nil
            EmbeddingOp.backward(dx.row(segments[index].lowerBound), ids: example.inputIds, vocabulary: vocabulary,
                                 hidden: hidden, visualTokenCount: visualTokens[index]?.rows ?? 0,
                                 dTokens: tokens.gradient, dFigureTokens: figureTokens.gradient,
                                 dVisualTokens: dVisual?.data)
            guard let dVisual else { continue }
            for (imageIndex, image) in imageRecords[index].enumerated() {
                let dResampled = projection.backward(dVisual.row(imageIndex * latentsPerImage),
                                                     x: image.resampled.data, rows: latentsPerImage)
                let dMedia = perceiver.backward(dResampled.data, record: image.perceiver)
                vision.backward(dMedia, record: image.vision)
            }
        }
        return BatchLoss(sum: sum, count: count)
    }

    private func tables(_ visualTokens: Tensor?) -> EmbeddingOp.Tables {
        EmbeddingOp.Tables(tokens: tokens.values, figureTokens: figureTokens.values,
                           visualTokens: visualTokens.map { UnsafePointer($0.data) },
                           visualTokenCount: visualTokens?.rows ?? 0, vocabulary: config.text.vocabSize,
                           hidden: config.text.hiddenSize)
    }
}
