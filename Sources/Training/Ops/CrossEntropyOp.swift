import Foundation
import Tensor

/// Softmax cross-entropy over rows of logits with an ignore index, fused with its gradient.
public enum CrossEntropyOp {
    public static let ignoreIndex: Int32 = -100

    /// Returns the summed loss over rows whose target is not `ignoreIndex`. When `dLogits` is given it is
    /// overwritten with `(softmax - onehot) * scale` on counted rows and 0 on ignored ones; the caller picks
    /// `scale` (1 / number of counted labels in the batch for a mean, further divided for accumulation).
    public static func forwardBackward(
        _ logits: UnsafePointer<Float>, rows: Int, vocabulary: Int, targets: UnsafePointer<Int32>, scale: Float,
        dLogits: UnsafeMutablePointer<Float>?
    ) -> Double {
        var losses = [Double](repeating: 0, count: rows)
        losses.withUnsafeMutableBufferPointer { losses in
            let lossesBase = losses.baseAddress!
            Parallel.forEachChunk(rows) { range in
                // Without gradient rows to compute into (evaluation), one scratch row per chunk, not per label.
                let scratch = dLogits == nil ? UnsafeMutablePointer<Float>.allocate(capacity: vocabulary) : nil
                defer { scratch?.deallocate() }
                for row in range {
                    let input = logits + row * vocabulary
                    let target = targets[row]
                    guard target != ignoreIndex else {
                        dLogits.map { ($0 + row * vocabulary).update(repeating: 0, count: vocabulary) }
                        continue
                    }
                    precondition(target >= 0 && Int(target) < vocabulary, "label \(target) outside the vocabulary")
                    // One vectorised softmax pass over the row (32,000 exponentials per label in RadFM), into the
                    // gradient row when there is one.
                    let probabilities = dLogits.map { $0 + row * vocabulary } ?? scratch!
                    probabilities.update(from: input, count: vocabulary)
                    Softmax.row(probabilities, length: vocabulary, rowLength: vocabulary)
                    let probability = probabilities[Int(target)]
                    lossesBase[row] = probability >= .leastNormalMagnitude
                        ? -log(Double(probability)) : logSumExpLoss(input, vocabulary: vocabulary, target: Int(target))
                    guard dLogits != nil else { continue }
                    for j in 0..<vocabulary { probabilities[j] *= scale }
                    probabilities[Int(target)] -= scale
                }
            }
        }
        return losses.reduce(0, +)
    }

    /// The loss in float64 from the logits, for a target whose probability underflows float32 (a logit
    /// ~87 below the row's largest); -log(p) would be infinite there.
    static func logSumExpLoss(_ input: UnsafePointer<Float>, vocabulary: Int, target: Int) -> Double {
        var maximum = -Float.infinity
        for j in 0..<vocabulary where input[j] > maximum { maximum = input[j] }
        var total: Double = 0
        for j in 0..<vocabulary { total += exp(Double(input[j] - maximum)) }
        return log(total) - Double(input[target] - maximum)
    }
}
