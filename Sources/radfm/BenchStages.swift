import Dispatch
import Foundation
import RadFM
import Tensor

/// The stages `radfm bench` times, one run per call, on one model with random weights: the sequential
/// bench and the lockstep mode (driven request by request from stdin) share them.
final class BenchStages {
    let model: RadFMModel
    let config: RadFMConfig
    let promptTokens: Int
    let decodeTokens: Int
    let sgemm: Double
    private var images: [Int: Tensor] = [:]
    /// Caches and last logits of the latest prefill per batch size, which the next decode of that batch
    /// continues (and uses up: the caches hold exactly `decodeTokens` more positions).
    private var prefilled: [Int: (caches: [KVCache], logits: Tensor)] = [:]

    struct RequestError: Error, CustomStringConvertible {
        let description: String
    }

    init(config: RadFMConfig, promptTokens: Int, decodeTokens: Int, sgemm: Double) throws {
        self.config = config
        self.promptTokens = promptTokens
        self.decodeTokens = decodeTokens
        self.sgemm = sgemm
        model = RadFMModel(config: config)
        BenchCommand.randomize(model)
        // The first pass pays page faults and thread start-up; every timed run is the steady state.
        let side = config.vision.imageSize
        _ = try model.visualTokens([Tensor(zeros: [3, side, side, config.vision.framePatchSize])])
    }

    var parameterCount: Int { model.parameters.reduce(0) { $0 + $1.count } }

    /// One vision-encoder run (ViT, perceiver, projection) on a random 512x512xdepth volume.
    func vision(depth: Int) throws -> BenchCommand.Timing {
        guard depth > 0, depth % config.vision.framePatchSize == 0 else {
            throw RequestError(description: "vision depth \(depth) is not a positive multiple of \(config.vision.framePatchSize)")
        }
        let side = config.vision.imageSize
        let image = images[depth] ?? {
            let image = Tensor(zeros: [3, side, side, depth])
            BenchCommand.fillUniform(image.buffer, scale: 1, seed: UInt64(depth))
            return image
        }()
        images[depth] = image
        return try BenchCommand.time { _ = try model.visualTokens([image]) }
    }

    func visionLine(depth: Int, _ timing: BenchCommand.Timing) -> String {
        let side = config.vision.imageSize
        return line("vision \(side)x\(side)x\(depth)", timing, flops: BenchCommand.visionFlops(config, depth: depth),
                    extra: String(format: "%.3f s/image", timing.wall))
    }

    /// One prefill of `batch` prompts of `promptTokens` text tokens into fresh caches.
    func prefill(batch: Int) throws -> BenchCommand.Timing {
        guard batch > 0 else { throw RequestError(description: "batch \(batch) is not positive") }
        let prompts: [[Int32]] = (0..<batch).map { sample in
            let text: [Int32] = (1..<promptTokens).map { position in
                Int32(100 + (position * 7919 + sample * 104_729) % (config.text.vocabSize - 100))
            }
            return [config.bosTokenId] + text
        }
        let caches = prompts.map { model.makeCache(capacity: $0.count + decodeTokens) }
        var logits = Tensor(zeros: [0])
        let timing = try BenchCommand.time {
            logits = try model.forward(tokens: prompts, visualTokens: [Tensor?](repeating: nil, count: batch),
                                       caches: caches)
        }
        prefilled[batch] = (caches, logits)
        return timing
    }

    func prefillLine(batch: Int, _ timing: BenchCommand.Timing) -> String {
        line("prefill batch \(batch)", timing,
             flops: BenchCommand.llmFlops(config, tokens: batch * promptTokens, context: promptTokens, batch: batch),
             extra: String(format: "%.0f tokens/s", Double(batch * promptTokens) / timing.wall))
    }

    /// `decodeTokens` greedy steps continuing the latest prefill of this batch; the median step.
    func decode(batch: Int) throws -> BenchCommand.Timing {
        guard var (caches, logits) = prefilled.removeValue(forKey: batch) else {
            throw RequestError(description: "decode batch \(batch) needs a prefill of batch \(batch) first")
        }
        let noImages = [Tensor?](repeating: nil, count: batch)
        var steps: [BenchCommand.Timing] = []
        for _ in 0..<decodeTokens {
            let next = (0..<batch).map { [GreedyDecoder.argmax(logits.row($0), count: logits.columns)] }
            steps.append(try BenchCommand.time {
                logits = try model.forward(tokens: next, visualTokens: noImages, caches: caches)
            })
        }
        caches.removeAll()
        return steps.sorted()[steps.count / 2]
    }

    func decodeLine(batch: Int, _ timing: BenchCommand.Timing) -> String {
        line("decode batch \(batch)", timing,
             flops: BenchCommand.llmFlops(config, tokens: batch, context: promptTokens + decodeTokens / 2, batch: batch),
             extra: String(format: "%.1f tokens/s (median step)", Double(batch) / timing.wall))
    }

    /// One line per stage. `cpu share` is the process's CPU time over wall time times the core count: well
    /// below 1 means other processes took the cores and the wall-clock figures of that stage are inflated.
    private func line(_ stage: String, _ timing: BenchCommand.Timing, flops: Double, extra: String) -> String {
        let rate = flops / timing.wall / 1e9
        let label = stage.padding(toLength: 24, withPad: " ", startingAt: 0)
        return label + String(format: "%8.3f s  %7.1f GFLOP/s  %.2f of sgemm  cpu share %.2f  ", timing.wall, rate,
                              rate / sgemm, timing.cpuShare) + extra
    }

    /// Answers requests read from stdin until it closes or says `quit`, one output line each: `vision D`,
    /// `prefill B`, `decode B` (after a `prefill B`). A bad request is answered with an `error:` line and the
    /// loop goes on. A driver that alternates these requests with another program's sees both run the same
    /// stage within seconds of each other, on a machine whose speed drifts over minutes.
    func answerRequests() {
        print("ready")
        fflush(stdout)
        while let request = readLine() {
            let words = request.split(separator: " ")
            if words == ["quit"] { break }
            let reply: String
            do {
                guard words.count == 2, let size = Int(words[1]) else {
                    throw RequestError(description: "expected `vision D`, `prefill B`, `decode B` or `quit`, got `\(request)`")
                }
                switch words[0] {
                case "vision": reply = visionLine(depth: size, try vision(depth: size))
                case "prefill": reply = prefillLine(batch: size, try prefill(batch: size))
                case "decode": reply = decodeLine(batch: size, try decode(batch: size))
                default: throw RequestError(description: "unknown stage `\(words[0])` in `\(request)`")
                }
            } catch {
                reply = "error: \(error)"
            }
            print(reply)
            fflush(stdout)
        }
    }
}
