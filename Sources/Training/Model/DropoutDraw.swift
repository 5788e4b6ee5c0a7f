/// Identifies the dropout masks of one micro-batch. Every mask's key derives from (seed, step,
/// micro-batch, image, layer, site), never from a generator's running state, so a run resumed at any step
/// draws the same masks as one that never stopped, and evaluation (which passes no draw) none at all.
public struct DropoutDraw: Equatable, Sendable {
    public var seed: UInt64
    /// Optimisation steps completed before this one.
    public var step: Int
    public var microBatch: Int
    /// Image of the micro-batch, counted over its samples in order.
    var image = 0

    /// Where RadFM's ViT applies dropout (vit_3d.py): after adding the position embedding (`emb_dropout`),
    /// and with `dropout` on the attention probabilities after softmax, after `to_out`'s linear, after the
    /// feed-forward GELU and after its second linear. The perceiver and LLaMA have none.
    enum Site: UInt64 {
        case embedding = 1, attentionProbabilities, attentionOutput, feedForwardHidden, feedForwardOutput
    }

    public init(seed: UInt64, step: Int, microBatch: Int) {
        self.seed = seed
        self.step = step
        self.microBatch = microBatch
    }

    func forImage(_ image: Int) -> DropoutDraw {
        var draw = self
        draw.image = image
        return draw
    }

    /// Stream 6 of the seed: 1 to 3 order the data and 5 initialises weights.
    func key(layer: Int, site: Site) -> UInt64 {
        var generator = SeededGenerator(seed: seed, stream: 6, UInt64(step), UInt64(microBatch), UInt64(image),
                                        UInt64(layer), site.rawValue)
        return generator.next()
    }

    /// The mask of `count` elements at one site, or nil when the probability is 0 (dropout off).
    func mask(count: Int, probability: Float, layer: Int, site: Site) -> DropoutMask? {
        probability > 0 ? DropoutMask(count: count, probability: probability, key: key(layer: layer, site: site)) : nil
    }
}
