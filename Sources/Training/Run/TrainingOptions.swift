/// Hyper-parameters of a run.
public struct TrainingOptions: Sendable {
    public var steps: Int
    /// Micro-batches whose gradients are summed into one update.
    public var accumulation: Int
    public var learningRate: Float
    public var warmupSteps: Int
    public var weightDecay: Float
    /// Global gradient norm limit; nil for no clipping.
    public var maxGradientNorm: Double?

    public init(steps: Int, accumulation: Int = 1, learningRate: Float, warmupSteps: Int = 0, weightDecay: Float = 0,
                maxGradientNorm: Double? = 1) {
        self.steps = steps
        self.accumulation = accumulation
        self.learningRate = learningRate
        self.warmupSteps = warmupSteps
        self.weightDecay = weightDecay
        self.maxGradientNorm = maxGradientNorm
    }
}
