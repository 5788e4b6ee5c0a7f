import Foundation

/// The model directory's `config.json` (DESIGN section 5). Every layer size is read from here, so a tiny
/// test configuration exercises exactly the code paths of the 14 B model.
public struct RadFMConfig: Codable, Equatable, Sendable {
    public struct Vision: Codable, Equatable, Sendable {
        public var imageSize: Int
        public var frames: Int
        public var patchSize: Int
        public var framePatchSize: Int
        public var channels: Int
        public var dim: Int
        public var depth: Int
        public var heads: Int
        public var dimHead: Int
        public var mlpDim: Int
        /// Training-only dropout of the ViT blocks (attention probabilities, attention output, both
        /// feed-forward layers) and of the embedded patches. RadFM trains with 0.1 each; inference ignores
        /// them, as `model.eval()` does. Optional in config.json: absent means 0, and 0 is not written back.
        public var dropout: Float
        public var embDropout: Float

        enum CodingKeys: String, CodingKey {
            case imageSize = "image_size", frames, patchSize = "patch_size"
            case framePatchSize = "frame_patch_size", channels, dim, depth, heads
            case dimHead = "dim_head", mlpDim = "mlp_dim", dropout, embDropout = "emb_dropout"
        }

        public init(imageSize: Int, frames: Int, patchSize: Int, framePatchSize: Int, channels: Int,
                    dim: Int, depth: Int, heads: Int, dimHead: Int, mlpDim: Int, dropout: Float = 0,
                    embDropout: Float = 0) {
            self.imageSize = imageSize; self.frames = frames; self.patchSize = patchSize
            self.framePatchSize = framePatchSize; self.channels = channels; self.dim = dim
            self.depth = depth; self.heads = heads; self.dimHead = dimHead; self.mlpDim = mlpDim
            self.dropout = dropout; self.embDropout = embDropout
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(imageSize: try c.decode(Int.self, forKey: .imageSize), frames: try c.decode(Int.self, forKey: .frames),
                      patchSize: try c.decode(Int.self, forKey: .patchSize),
                      framePatchSize: try c.decode(Int.self, forKey: .framePatchSize),
                      channels: try c.decode(Int.self, forKey: .channels), dim: try c.decode(Int.self, forKey: .dim),
                      depth: try c.decode(Int.self, forKey: .depth), heads: try c.decode(Int.self, forKey: .heads),
                      dimHead: try c.decode(Int.self, forKey: .dimHead), mlpDim: try c.decode(Int.self, forKey: .mlpDim),
                      dropout: try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0,
                      embDropout: try c.decodeIfPresent(Float.self, forKey: .embDropout) ?? 0)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(imageSize, forKey: .imageSize); try c.encode(frames, forKey: .frames)
            try c.encode(patchSize, forKey: .patchSize); try c.encode(framePatchSize, forKey: .framePatchSize)
            try c.encode(channels, forKey: .channels); try c.encode(dim, forKey: .dim); try c.encode(depth, forKey: .depth)
            try c.encode(heads, forKey: .heads); try c.encode(dimHead, forKey: .dimHead); try c.encode(mlpDim, forKey: .mlpDim)
            // Written only when on, so a config.json without dropout round-trips unchanged.
            if dropout != 0 { try c.encode(dropout, forKey: .dropout) }
            if embDropout != 0 { try c.encode(embDropout, forKey: .embDropout) }
        }

        /// Values per patch, flattened in (p1 p2 pf c) order.
        public var patchDim: Int { patchSize * patchSize * framePatchSize * channels }
        /// Rows of the row/column position tables, and of the depth table.
        public var spatialPositions: Int { imageSize / patchSize }
        public var depthPositions: Int { frames / framePatchSize }
        public var innerDim: Int { heads * dimHead }
    }

    public struct Perceiver: Codable, Equatable, Sendable {
        public var depth: Int
        public var heads: Int
        public var dimHead: Int
        public var numLatents: Int
        public var ffMult: Int

        enum CodingKeys: String, CodingKey {
            case depth, heads, dimHead = "dim_head", numLatents = "num_latents", ffMult = "ff_mult"
        }

        public init(depth: Int, heads: Int, dimHead: Int, numLatents: Int, ffMult: Int) {
            self.depth = depth; self.heads = heads; self.dimHead = dimHead
            self.numLatents = numLatents; self.ffMult = ffMult
        }

        public var innerDim: Int { heads * dimHead }
    }

    public struct Text: Codable, Equatable, Sendable {
        public var hiddenSize: Int
        public var intermediateSize: Int
        public var numHiddenLayers: Int
        public var numAttentionHeads: Int
        public var vocabSize: Int
        public var rmsNormEps: Float
        public var maxPositionEmbeddings: Int
        public var ropeTheta: Float

        enum CodingKeys: String, CodingKey {
            case hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
            case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
            case vocabSize = "vocab_size", rmsNormEps = "rms_norm_eps"
            case maxPositionEmbeddings = "max_position_embeddings", ropeTheta = "rope_theta"
        }

        public init(hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                    vocabSize: Int, rmsNormEps: Float, maxPositionEmbeddings: Int, ropeTheta: Float) {
            self.hiddenSize = hiddenSize; self.intermediateSize = intermediateSize
            self.numHiddenLayers = numHiddenLayers; self.numAttentionHeads = numAttentionHeads
            self.vocabSize = vocabSize; self.rmsNormEps = rmsNormEps
            self.maxPositionEmbeddings = maxPositionEmbeddings; self.ropeTheta = ropeTheta
        }

        public var headDim: Int { hiddenSize / numAttentionHeads }
    }

    public var modelType: String
    public var vision: Vision
    public var perceiver: Perceiver
    public var text: Text
    public var maxImages: Int
    public var bosTokenId: Int32
    public var eosTokenId: Int32
    public var padTokenId: Int32

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", vision, perceiver, text, maxImages = "max_images"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
    }

    public init(modelType: String = "radfm", vision: Vision, perceiver: Perceiver, text: Text,
                maxImages: Int, bosTokenId: Int32 = 1, eosTokenId: Int32 = 2, padTokenId: Int32 = 0) {
        self.modelType = modelType; self.vision = vision; self.perceiver = perceiver; self.text = text
        self.maxImages = maxImages; self.bosTokenId = bosTokenId; self.eosTokenId = eosTokenId
        self.padTokenId = padTokenId
    }

    /// Visual tokens each image contributes to the prompt.
    public var tokensPerImage: Int { perceiver.numLatents }

    /// First id past the text vocabulary and the two figure markers: visual token 0.
    public var firstVisualTokenId: Int { text.vocabSize + 2 }

    public static func load(from url: URL) throws -> RadFMConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RadFMConfigError.unreadable(path: url.path, reason: "\(error)")
        }
        let config: RadFMConfig
        do { config = try JSONDecoder().decode(RadFMConfig.self, from: data) } catch {
            throw RadFMConfigError.invalid(path: url.path, reason: "\(error)")
        }
        try config.validate(path: url.path)
        return config
    }

    /// Checks the divisibility the architecture relies on, so a bad config fails here with a reason
    /// rather than as a shape mismatch deep inside a forward pass.
    public func validate(path: String = "config") throws {
        func require(_ condition: Bool, _ reason: String) throws {
            if !condition { throw RadFMConfigError.invalid(path: path, reason: reason) }
        }
        try require(modelType == "radfm", "model_type is \(modelType), expected radfm")
        try require(vision.dim % 3 == 0, "vision.dim \(vision.dim) must split into three position tables")
        // RadFM's ViT replaces `to_out` by an identity in this case, so the checkpoint would lack its keys.
        try require(!(vision.heads == 1 && vision.dimHead == vision.dim),
                    "vision.heads 1 with dim_head equal to dim (no output projection) is not supported")
        try require((0..<1).contains(vision.dropout) && (0..<1).contains(vision.embDropout),
                    "vision.dropout and vision.emb_dropout must be in [0, 1)")
        try require(vision.imageSize % vision.patchSize == 0, "vision.image_size must be a multiple of patch_size")
        try require(vision.frames % vision.framePatchSize == 0, "vision.frames must be a multiple of frame_patch_size")
        try require(text.hiddenSize % text.numAttentionHeads == 0,
                    "text.hidden_size must be a multiple of num_attention_heads")
        try require(text.headDim % 2 == 0, "text head dimension must be even for rotary embedding")
        try require(maxImages > 0 && perceiver.numLatents > 0, "max_images and num_latents must be positive")
    }
}

public enum RadFMConfigError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalid(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read model config \(path): \(reason)"
        case .invalid(let path, let reason): return "invalid model config \(path): \(reason)"
        }
    }
}
