/// Everything besides tensors that a resumed run needs to continue exactly where it stopped.
public struct TrainerState: Codable, Equatable, Sendable {
    /// Optimisation steps completed.
    public var step: Int
    public var optimizer: AdamW
    public var schedule: LearningRateSchedule
    public var data: DataPosition
    /// The data order's seed; with `data` it fixes every batch still to come, and with `step` every dropout
    /// mask (`DropoutDraw`).
    public var seed: UInt64

    public init(step: Int, optimizer: AdamW, schedule: LearningRateSchedule, data: DataPosition, seed: UInt64) {
        self.step = step
        self.optimizer = optimizer
        self.schedule = schedule
        self.data = data
        self.seed = seed
    }
}
