/// Loss on a held-out dataset: every sample of its first epoch once, no gradients. The mean is over all
/// supervised labels together, like the training loss.
public enum HeldOutEvaluation {
    public static func loss(_ graph: RadFMTrainingGraph, on dataset: TrainingDataset) throws -> BatchLoss {
        var total = BatchLoss(sum: 0, count: 0)
        for batch in dataset.plan.batches(epoch: 0) {
            let part = try graph.loss(batch.map(dataset.example))
            total.sum += part.sum
            total.count += part.count
        }
        return total
    }
}
