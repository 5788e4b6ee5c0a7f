import Foundation

/// `--log FILE.jsonl`: one JSON object per step (`step`, `loss`, `lr`, `tokens`, `grad_norm`, `seconds`, and
/// `eval_loss` on evaluation steps),
/// flushed as written so a crashed run keeps every finished step. A resumed run appends.
public final class TrainingLog {
    private let handle: FileHandle
    public let path: String

    public init(url: URL) throws {
        path = url.path
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw TrainingCheckpointError.unwritable(path: url.path, reason: "cannot create the log file")
            }
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw TrainingCheckpointError.unwritable(path: url.path, reason: error.localizedDescription)
        }
    }

    deinit { try? handle.close() }

    public func append(_ report: StepReport) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try handle.write(contentsOf: try encoder.encode(report) + Data("\n".utf8))
        } catch {
            throw TrainingCheckpointError.unwritable(path: path, reason: error.localizedDescription)
        }
    }
}

/// The one-line progress display: step, loss, tokens per second, time left.
public struct ProgressLine {
    public let totalSteps: Int
    private var tokens = 0
    private var seconds = 0.0

    public init(totalSteps: Int) { self.totalSteps = totalSteps }

    public mutating func line(for report: StepReport) -> String {
        tokens += report.tokens
        seconds += report.seconds
        let rate = seconds > 0 ? Double(tokens) / seconds : 0
        let perStep = seconds / Double(max(report.step, 1))
        let remaining = perStep * Double(max(totalSteps - report.step, 0))
        let evaluation = report.evaluationLoss.map { String(format: "  eval %.4f", $0) } ?? ""
        return String(format: "step %d/%d  loss %.4f%@  lr %.2e  %.0f tok/s  ETA %@", report.step, totalSteps,
                      report.loss, evaluation, Double(report.learningRate), rate, Self.duration(remaining))
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%dh%02dm", hours, minutes) : String(format: "%dm%02ds", minutes, rest)
    }
}
