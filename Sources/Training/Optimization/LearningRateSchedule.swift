import Foundation

/// Linear warm-up from 0 to `peak`, then a half cosine down to 0 at `totalSteps`: transformers'
/// `get_cosine_schedule_with_warmup`, which RadFM's Trainer runs. Step 0 is the first update. Past
/// `totalSteps` the rate stays 0 (transformers' formula would start a second cosine cycle there).
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(peak: Float, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step) / Float(max(1, warmupSteps)) }
        let progress = min(1, Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps)))
        return peak * Float(max(0, 0.5 * (1 + cos(Double.pi * progress))))
    }
}
