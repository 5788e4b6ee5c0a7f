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
            Parallel.forEach(rows) { row in
                let input = logits + row * vocabulary
                let target = targets[row]
                guard target != ignoreIndex else {
                    dLogits.map { ($0 + row * vocabulary).update(repeating: 0, count: vocabulary) }
                    return
                }
                precondition(target >= 0 && Int(target) < vocabulary, "label \(target) outside the vocabulary")
                var maximum = -Float.infinity
                for j in 0..<vocabulary where input[j] > maximum { maximum = input[j] }
                var total: Double = 0
                for j in 0..<vocabulary { total += Double(expf(input[j] - maximum)) }
                let logTotal = log(total)
                lossesBase[row] = logTotal - Double(input[Int(target)] - maximum)
                if let dLogits {
                    let out = dLogits + row * vocabulary
                    let inverse = Float(1 / total)
                    for j in 0..<vocabulary { out[j] = expf(input[j] - maximum) * inverse * scale }
                    out[Int(target)] -= scale
                }
            }
        }
        return losses.reduce(0, +)
    }
}
