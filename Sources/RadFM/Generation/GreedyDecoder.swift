import Dispatch
import Tensor

/// Greedy decoding of many samples at once. All prompts are prefilled in one decoder call (their tokens
/// concatenated, each attending only to its own cache), then every step feeds one token per unfinished
/// sample. No padding is involved, so a sample's tokens do not depend on what it is batched with.
public struct GreedyDecoder {
    public let model: RadFMModel

    public init(model: RadFMModel) { self.model = model }

    public struct Output {
        public var tokens: [[Int32]]
        public var promptLogits: [[Float]]?
        public var timings: GenerationTimings
    }

    /// `prompts[i]` are full prompt ids (visual token ids resolved against `images[i]`). Stops a sample at
    /// the config's eos id (kept in its output) or after `maxNewTokens`.
    public func run(
        prompts: [[Int32]], images: [[Tensor]], maxNewTokens: Int, keepPromptLogits: Bool = false
    ) throws -> Output {
        precondition(prompts.count == images.count, "one image list per prompt")
        var timings = GenerationTimings()
        var output = Output(tokens: Array(repeating: [], count: prompts.count), promptLogits: nil, timings: timings)
        guard !prompts.isEmpty else { return output }

        var start = DispatchTime.now()
        // Several questions about one study (report, diagnosis, yes/no findings) pass the same image
        // tensors: the vision encoder and perceiver run once per distinct image list, not per question.
        var encoded: [[ObjectIdentifier]: Tensor] = [:]
        let visualTokens = try images.enumerated().map { sample, images -> Tensor? in
            guard !images.isEmpty else { return nil }
            let key = images.map(ObjectIdentifier.init)
            if let shared = encoded[key] { return shared }
            let tokens = try model.visualTokens(images, sample: sample)
            encoded[key] = tokens
            return tokens
        }
        timings.visionSeconds = Self.seconds(since: start)

        start = DispatchTime.now()
        var caches: [KVCache?] = prompts.map { model.makeCache(capacity: $0.count + max(maxNewTokens, 1)) }
        var logits = try model.forward(tokens: prompts, visualTokens: visualTokens, caches: caches.map { $0! })
        timings.prefillSeconds = Self.seconds(since: start)
        if keepPromptLogits {
            output.promptLogits = prompts.indices.map { Array(UnsafeBufferPointer(start: logits.row($0), count: logits.columns)) }
        }

        start = DispatchTime.now()
        var active = maxNewTokens > 0 ? Array(prompts.indices) : []
        while !active.isEmpty {
            for (row, sample) in active.enumerated() {
                output.tokens[sample].append(Self.argmax(logits.row(row), count: logits.columns))
            }
            active = active.filter { sample in
                let finished = output.tokens[sample].last == model.config.eosTokenId
                    || output.tokens[sample].count >= maxNewTokens
                if finished { caches[sample] = nil }
                return !finished
            }
            guard !active.isEmpty else { break }
            logits = try model.forward(
                tokens: active.map { [output.tokens[$0].last!] }, visualTokens: active.map { visualTokens[$0] },
                caches: active.map { caches[$0]! })
            timings.decodeSteps += 1
        }
        timings.decodeSeconds = Self.seconds(since: start)
        output.timings = timings
        return output
    }

    /// Index of the first maximum, as `torch.argmax`.
    public static func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int32 {
        var best = 0
        for i in 1..<count where values[i] > values[best] { best = i }
        return Int32(best)
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
