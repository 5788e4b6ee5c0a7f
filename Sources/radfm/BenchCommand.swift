import ArgumentParser
import Foundation
import RadFM
import Tensor

/// `radfm bench`: throughput of each model stage on this machine, with random weights, each set against
/// the sgemm rate measured in the same run (a stage at 0.8 of sgemm leaves little to gain).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure sgemm, the vision encoder (RadFM's real config) and a ~1B LLaMA (random weights).",
        subcommands: [PipelineBenchCommand.self])

    @Option(parsing: .upToNextOption, help: "Volume depths for the 512x512 vision-encoder runs.")
    var depths: [Int] = [4, 64]

    @Option(parsing: .upToNextOption, help: "Batch sizes for LLM prefill and decode.")
    var batches: [Int] = [1, 4, 16]

    @Option(help: "Prompt tokens per sample for prefill.")
    var promptTokens: Int = 128

    @Option(help: "Decode steps timed per batch size (the median step is reported).")
    var decodeTokens: Int = 16

    @Option(help: "Decoder layers of the benchmark LLM (hidden 2048, MLP 5632, 16 heads of 128).")
    var llmLayers: Int = 16

    @Flag(help: "Tiny model and sizes (seconds, not minutes): checks that every stage runs, not how fast.")
    var quick = false

    @Flag(help: """
        After setup print `ready`, then time one stage per stdin line (`vision D`, `prefill B`, `decode B`, \
        `quit`) and answer each with its result line: for Benchmarks/side_by_side.py.
        """)
    var lockstep = false

    func validate() throws {
        guard promptTokens > 0, decodeTokens > 0, llmLayers > 0 else {
            throw ValidationError("--prompt-tokens, --decode-tokens and --llm-layers must be positive")
        }
        guard batches.allSatisfy({ $0 > 0 }), depths.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--batches and --depths must be positive")
        }
    }

    /// The sizes actually run: the options, or the smoke-test sizes with `--quick`.
    var plan: (depths: [Int], batches: [Int], promptTokens: Int, decodeTokens: Int, sgemmSize: Int) {
        quick ? ([4], [1, 2], 8, 2, 256) : (depths, batches, promptTokens, decodeTokens, 2048)
    }

    /// RadFM's vision encoder and perceiver (DESIGN section 5) in front of a ~1 B-parameter LLaMA.
    var benchConfig: RadFMConfig {
        if quick {
            return RadFMConfig(
                vision: .init(imageSize: 64, frames: 8, patchSize: 32, framePatchSize: 4, channels: 3,
                              dim: 64, depth: 2, heads: 2, dimHead: 32, mlpDim: 128),
                perceiver: .init(depth: 1, heads: 2, dimHead: 32, numLatents: 4, ffMult: 2),
                text: .init(hiddenSize: 64, intermediateSize: 128, numHiddenLayers: 2,
                            numAttentionHeads: 2, vocabSize: 512, rmsNormEps: 1e-6,
                            maxPositionEmbeddings: 64, ropeTheta: 10000),
                maxImages: 1)
        }
        return RadFMConfig(
            vision: .init(imageSize: 512, frames: 512, patchSize: 32, framePatchSize: 4, channels: 3,
                          dim: 768, depth: 12, heads: 8, dimHead: 64, mlpDim: 2048),
            perceiver: .init(depth: 6, heads: 8, dimHead: 64, numLatents: 32, ffMult: 4),
            text: .init(hiddenSize: 2048, intermediateSize: 5632, numHiddenLayers: llmLayers,
                        numAttentionHeads: 16, vocabSize: 32000, rmsNormEps: 1e-6,
                        maxPositionEmbeddings: 2048, ropeTheta: 10000),
            maxImages: 1)
    }

    func run() throws {
        if let openBLASStartupNote { print(openBLASStartupNote) }
        // Matmul calls OpenBLAS single-threaded and splits products over the cores itself.
        print("OpenBLAS kernel \(OpenBLASRuntime.coreName), products split over \(Parallel.coreCount) cores")
        let plan = plan
        let sgemm = Self.sgemmRate(size: plan.sgemmSize)
        print(String(format: "sgemm %dx%dx%d: %.1f GFLOP/s", plan.sgemmSize, plan.sgemmSize, plan.sgemmSize, sgemm))

        let config = benchConfig
        let stages = try BenchStages(config: config, promptTokens: plan.promptTokens,
                                     decodeTokens: plan.decodeTokens, sgemm: sgemm)
        print(String(format: "model: %.2f B parameters (vision %d-d x %d, LLM %d layers x %d)",
                     Double(stages.parameterCount) / 1e9, config.vision.dim, config.vision.depth,
                     config.text.numHiddenLayers, config.text.hiddenSize))
        if lockstep {
            stages.answerRequests()
            return
        }

        for depth in plan.depths {
            var best = BenchStages.Timing.never
            for _ in 0..<(depth <= 16 ? 3 : 1) { best = min(best, try stages.vision(depth: depth)) }
            print(stages.visionLine(depth: depth, best))
        }
        for batch in plan.batches {
            // Best of two prefills (fresh caches each), then decode steps from the second; a shared machine
            // adds noise only upwards, so the minimum and the median are the honest figures.
            let prefill = min(try stages.prefill(batch: batch), try stages.prefill(batch: batch))
            print(stages.prefillLine(batch: batch, prefill))
            print(stages.decodeLine(batch: batch, try stages.decode(batch: batch)))
        }
        if let small = plan.batches.min(), let large = plan.batches.max(), small < large {
            print(try stages.decodeScaling(small: small, large: large).line)
        }
    }

    /// Best of three size^3 products: the ceiling every stage is measured against.
    static func sgemmRate(size n: Int) -> Double {
        let a = Tensor(zeros: [n, n]), b = Tensor(zeros: [n, n]), c = Tensor(zeros: [n, n])
        BenchStages.fillUniform(a.buffer, scale: 1, seed: 1)
        BenchStages.fillUniform(b.buffer, scale: 1, seed: 2)
        var best = BenchStages.Timing.never
        for _ in 0..<3 {
            best = min(best, BenchStages.time {
                Matmul.gemm(m: n, n: n, k: n, a: a.data, lda: n, b: b.data, ldb: n, c: c.data, ldc: n)
            })
        }
        return 2 * Double(n * n * n) / best.wall / 1e9
    }
}
