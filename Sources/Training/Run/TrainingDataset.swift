import Foundation
import Imaging
import RadFM
import Tensor

/// One manifest of a mixture and its MedMD-style weight.
public struct ManifestSource: Sendable {
    public var url: URL
    public var weight: Double

    public init(url: URL, weight: Double = 1) {
        self.url = url
        self.weight = weight
    }
}

/// Samples of a run, their batching, and how a sample becomes a model input.
public struct TrainingDataset {
    public let plan: BatchPlan
    /// `encoded[source][index]`, tokenised once up front so a bad line fails before training starts.
    public let encoded: [[EncodedSample]]
    let loadImages: (EncodedSample) throws -> [Tensor]

    public init(plan: BatchPlan, encoded: [[EncodedSample]], loadImages: @escaping (EncodedSample) throws -> [Tensor]) {
        self.plan = plan
        self.encoded = encoded
        self.loadImages = loadImages
    }

    public func example(_ id: SampleID) throws -> TrainingExample {
        let sample = encoded[id.source][id.index]
        return TrainingExample(inputIds: sample.inputIds, labels: sample.labels, images: try loadImages(sample))
    }

    /// Reads and encodes every manifest, and loads each distinct image list once to learn its depth group (the
    /// depth RadFM's preprocessing gives the sample), so batches never mix depths.
    public static func load(
        _ sources: [ManifestSource], encoder: SampleEncoder, imageSize: Int, batchSize: Int, shuffle: Bool,
        seed: UInt64
    ) throws -> TrainingDataset {
        let images = SampleImages(imageSize: imageSize)
        var encoded: [[EncodedSample]] = []
        var depths: [[Int]] = []
        // Manifests ask many questions about one scan: read each image list once, not once per question.
        var depthOfImages: [[URL]: Int] = [:]
        for source in sources {
            let samples = try ManifestReader.read(source.url)
            var sourceEncoded: [EncodedSample] = []
            var sourceDepths: [Int] = []
            for sample in samples {
                let encodedSample = try encoder.encode(sample)
                let depth = try depthOfImages[encodedSample.images] ?? RadFMPreprocessor.sampleDepth(
                    for: images.volumes(encodedSample.images, sample: sample))
                depthOfImages[encodedSample.images] = depth
                sourceEncoded.append(encodedSample)
                sourceDepths.append(depth)
            }
            encoded.append(sourceEncoded)
            depths.append(sourceDepths)
        }
        let mixture = try DataMixture(counts: encoded.map(\.count), weights: sources.map(\.weight),
                                      names: sources.map(\.url.path))
        let plan = try BatchPlan(mixture: mixture, depthGroup: depths, batchSize: batchSize, shuffle: shuffle, seed: seed)
        let cache = PreprocessedImageCache(byteBudget: PreprocessedImageCache.defaultByteBudget)
        return TrainingDataset(plan: plan, encoded: encoded) { sample in
            try cache.tensors(for: sample.images) { try images.tensors(sample.images) }
        }
    }
}

/// Images through the Imaging module: one image per manifest entry (a DICOM folder contributes its
/// largest series), preprocessed as RadFM does, split into per-image [3, H, W, D] tensors.
struct SampleImages {
    let builder: ModelInputBuilder

    init(imageSize: Int) {
        var builder = ModelInputBuilder(imageSize: imageSize, maxImages: 1)
        builder.loader.policy.maxImages = 1
        self.builder = builder
    }

    func volumes(_ urls: [URL], sample: ManifestSample? = nil) throws -> [ImageVolume] {
        try urls.map { url in
            let loaded: [ImageVolume]
            do { loaded = try builder.loader.load(url) } catch {
                // At startup the manifest line is known; say where the unreadable image was listed.
                guard let sample else { throw error }
                throw TrainingDataError.invalidLine(path: sample.manifestPath, line: sample.line, reason: "\(error)")
            }
            guard loaded.count == 1 else {
                throw TrainingDataError.invalidLine(
                    path: sample?.manifestPath ?? url.path, line: sample?.line ?? 0,
                    reason: "\(url.path) holds \(loaded.count) images; each manifest image must be one")
            }
            return loaded[0]
        }
    }

    func tensors(_ urls: [URL]) throws -> [Tensor] {
        guard !urls.isEmpty else { return [] }
        let (data, shape) = builder.preprocessor.tensor(for: try volumes(urls))
        let perImage = Array(shape.dropFirst())
        let count = perImage.reduce(1, *)
        return (0..<shape[0]).map { index in
            let tensor = Tensor(zeros: perImage)
            data.withUnsafeBufferPointer { tensor.data.update(from: $0.baseAddress! + index * count, count: count) }
            return tensor
        }
    }
}
