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
        Self.randomize(model)
        // The first pass pays page faults and thread start-up; every timed run is the steady state.
        let side = config.vision.imageSize
        _ = try model.visualTokens([Tensor(zeros: [3, side, side, config.vision.framePatchSize])])
    }

    var parameterCount: Int { model.parameters.reduce(0) { $0 + $1.count } }

    /// One vision-encoder run (ViT, perceiver, projection) on a random 512x512xdepth volume.
    func vision(depth: Int) throws -> Timing {
        guard depth > 0, depth % config.vision.framePatchSize == 0 else {
            throw RequestError(description: "vision depth \(depth) is not a positive multiple of \(config.vision.framePatchSize)")
        }
        let side = config.vision.imageSize
        let image: Tensor
        if let made = images[depth] {
            image = made
        } else {
            image = Tensor(zeros: [3, side, side, depth])
            Self.fillUniform(image.buffer, scale: 1, seed: UInt64(depth))
            images[depth] = image
        }
        return try Self.time { _ = try model.visualTokens([image]) }
    }

    func visionLine(depth: Int, _ timing: Timing) -> String {
        let side = config.vision.imageSize
        return line("vision \(side)x\(side)x\(depth)", timing, flops: Self.visionFlops(config, depth: depth),
                    extra: String(format: "%.3f s/image", timing.wall))
    }

    /// One prefill of `batch` prompts of `promptTokens` text tokens into fresh caches.
    func prefill(batch: Int) throws -> Timing {
        guard batch > 0 else { throw RequestError(description: "batch \(batch) is not positive") }
        let prompts: [[Int32]] = (0..<batch).map { sample in
            let text: [Int32] = (1..<promptTokens).map { position in
                Int32(100 + (position * 7919 + sample * 104_729) % (config.text.vocabSize - 100))
            }
            return [config.bosTokenId] + text
        }
        let caches = prompts.map { model.makeCache(capacity: $0.count + decodeTokens) }
        var logits = Tensor(zeros: [0])
        let timing = try Self.time {
            logits = try model.forward(tokens: prompts, visualTokens: [Tensor?](repeating: nil, count: batch),
                                       caches: caches)
        }
        prefilled[batch] = (caches, logits)
        return timing
    }

    func prefillLine(batch: Int, _ timing: Timing) -> String {
        line("prefill batch \(batch)", timing,
             flops: Self.llmFlops(config, tokens: batch * promptTokens, context: promptTokens, batch: batch),
             extra: String(format: "%.0f tokens/s", Double(batch * promptTokens) / timing.wall))
    }

    /// `decodeTokens` greedy steps continuing the latest prefill of this batch; the median step.
    func decode(batch: Int) throws -> Timing {
        let run = try decodeRun(batch: batch)
        let steps = try (0..<decodeTokens).map { _ in try run.step() }
        return Self.median(steps)
    }

    /// Decode throughput of `large` sequences over `small`, with their steps taken in alternation (the
    /// order swapping every step) after one prefill of each: the two figures `decode(batch:)` gives are
    /// minutes apart, on a machine whose speed drifts by more than their ratio's margin over minutes.
    func decodeScaling(small: Int, large: Int) throws -> DecodeScaling {
        guard small != large else {
            throw RequestError(description: "decode scaling needs two batch sizes, got \(small) twice")
        }
        _ = try prefill(batch: small)
        _ = try prefill(batch: large)
        let runs = (small: try decodeRun(batch: small), large: try decodeRun(batch: large))
        var smallSteps: [Timing] = [], largeSteps: [Timing] = []
        for index in 0..<decodeTokens {
            if index % 2 == 0 {
                smallSteps.append(try runs.small.step())
                largeSteps.append(try runs.large.step())
            } else {
                largeSteps.append(try runs.large.step())
                smallSteps.append(try runs.small.step())
            }
        }
        let pairRatios = zip(smallSteps, largeSteps).map { Double(large) * $0.wall / (Double(small) * $1.wall) }
        return DecodeScaling(small: small, large: large, smallStep: Self.median(smallSteps),
                             largeStep: Self.median(largeSteps), pairRatio: Self.median(pairRatios))
    }

    struct DecodeScaling {
        let small: Int, large: Int
        /// Median steps of each batch size.
        let smallStep: Timing, largeStep: Timing
        /// Median over step pairs of the throughput ratio within the pair.
        let pairRatio: Double

        var throughputRatio: Double { Double(large) * smallStep.wall / (Double(small) * largeStep.wall) }

        var line: String {
            String(format: "decode scaling, batch %d over %d, alternating steps: %.3f s and %.3f s per step, "
                   + "throughput %.2fx (pair median %.2fx)", large, small, largeStep.wall, smallStep.wall,
                   throughputRatio, pairRatio)
        }
    }

    /// Greedy decoding of one batch, a step at a time, continuing (and using up) its latest prefill.
    private final class DecodeRun {
        let model: RadFMModel
        let caches: [KVCache]
        let noImages: [Tensor?]
        var logits: Tensor

        init(model: RadFMModel, caches: [KVCache], logits: Tensor) {
            self.model = model
            self.caches = caches
            self.logits = logits
            noImages = [Tensor?](repeating: nil, count: caches.count)
        }

        func step() throws -> Timing {
            let next = (0..<caches.count).map { [GreedyDecoder.argmax(logits.row($0), count: logits.columns)] }
            return try BenchStages.time {
                logits = try model.forward(tokens: next, visualTokens: noImages, caches: caches)
            }
        }
    }

    private func decodeRun(batch: Int) throws -> DecodeRun {
        guard let (caches, logits) = prefilled.removeValue(forKey: batch) else {
            throw RequestError(description: "decode batch \(batch) needs a prefill of batch \(batch) first")
        }
        return DecodeRun(model: model, caches: caches, logits: logits)
    }

    /// The upper median; callers pass at least one value (`--decode-tokens` is positive).
    private static func median<Value: Comparable>(_ values: [Value]) -> Value { values.sorted()[values.count / 2] }

    func decodeLine(batch: Int, _ timing: Timing) -> String {
        line("decode batch \(batch)", timing,
             flops: Self.llmFlops(config, tokens: batch, context: promptTokens + decodeTokens / 2, batch: batch),
             extra: String(format: "%.1f tokens/s (median step)", Double(batch) / timing.wall))
    }

    /// One line per stage. `cpu share` is the process's CPU time over wall time times the core count: well
    /// below 1 means other processes took the cores and the wall-clock figures of that stage are inflated.
    private func line(_ stage: String, _ timing: Timing, flops: Double, extra: String) -> String {
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

    /// Matmul work of the vision path for one square image of depth D: patch embedding, blocks (projections and
    /// attention), perceiver and projection.
    static func visionFlops(_ config: RadFMConfig, depth: Int) -> Double {
        let v = config.vision, p = config.perceiver
        let side = v.imageSize / v.patchSize
        let tokens = Double(side * side * (depth / v.framePatchSize))
        let dim = Double(v.dim), inner = Double(v.innerDim), mlp = Double(v.mlpDim)
        var flops = 2 * tokens * Double(v.patchDim) * dim
        flops += Double(v.depth) * (2 * tokens * (dim * 3 * inner + inner * dim + 2 * dim * mlp)
                                    + 4 * tokens * tokens * inner)
        let latents = Double(p.numLatents), pInner = Double(p.innerDim), keys = tokens + latents
        flops += Double(p.depth) * (2 * latents * dim * pInner + 2 * keys * dim * 2 * pInner
                                    + 4 * latents * keys * pInner + 2 * latents * pInner * dim
                                    + 4 * latents * dim * dim * Double(p.ffMult))
        return flops + 2 * latents * dim * Double(config.text.hiddenSize)
    }

    /// Matmul work of `tokens` new tokens with average attention context `context`, and `heads` lm_head rows.
    static func llmFlops(_ config: RadFMConfig, tokens: Int, context: Int, batch: Int) -> Double {
        let t = config.text, h = Double(t.hiddenSize)
        let perToken = Double(t.numHiddenLayers) * (2 * (4 * h * h + 3 * h * Double(t.intermediateSize))
                                                   + 2 * 2 * Double(context) * h)
        return Double(tokens) * perToken + Double(batch) * 2 * h * Double(t.vocabSize)
    }

    /// Small uniform weights (1/sqrt(fan-in) for matrices, about 1 for norm scales) so activations stay finite.
    static func randomize(_ model: RadFMModel) {
        for (index, parameter) in model.parameters.enumerated() {
            if parameter.shape.count == 1 && parameter.key.hasSuffix("weight") {
                parameter.span.update(repeating: 1)
            } else {
                let fanIn = parameter.shape.count == 2 ? parameter.shape[1] : 1
                fillUniform(parameter.span, scale: 1 / Float(fanIn).squareRoot(), seed: UInt64(index + 1))
            }
        }
    }

    /// Uniform values in [-scale, scale) from a per-chunk xorshift: fast enough for a billion weights.
    static func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float, seed: UInt64) {
        let base = buffer.baseAddress!
        Parallel.forEachChunk(buffer.count, minimumChunk: 1 << 20) { range in
            var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(range.lowerBound) | 1
            for i in range {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                base[i] = scale * (Float(state >> 40) / Float(1 << 23) - 1)
            }
        }
    }

    /// Wall-clock and process CPU seconds of one run; ordered by wall time.
    struct Timing: Comparable {
        static let never = Timing(wall: .infinity, cpu: 0)
        var wall: Double
        var cpu: Double

        var cpuShare: Double { cpu / (wall * Double(Parallel.coreCount)) }

        static func < (a: Timing, b: Timing) -> Bool { a.wall < b.wall }
    }

    static func time(_ body: () throws -> Void) rethrows -> Timing {
        let start = DispatchTime.now(), cpuStart = processCPUSeconds()
        try body()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return Timing(wall: wall, cpu: processCPUSeconds() - cpuStart)
    }

    private static func processCPUSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
