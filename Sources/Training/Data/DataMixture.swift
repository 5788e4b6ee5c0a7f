/// A sample of a mixture: which manifest, which line of it (0-based among its samples).
public struct SampleID: Hashable, Codable, Sendable {
    public var source: Int
    public var index: Int

    public init(source: Int, index: Int) {
        self.source = source
        self.index = index
    }
}

/// MedMD-style mixing of several manifests: each epoch takes every sample of a source `floor(weight)`
/// times, plus `round(frac(weight) * count)` of its samples drawn without replacement from the seed, so a
/// weight of 0.25 uses a different quarter of a large corpus every epoch and 2 repeats a small one twice.
public struct DataMixture: Sendable {
    public let counts: [Int]
    public let weights: [Double]

    public init(counts: [Int], weights: [Double], names: [String]) throws {
        precondition(counts.count == weights.count && counts.count == names.count)
        for (index, weight) in weights.enumerated() {
            // A source that contributes nothing per epoch is a mistake, and all of them doing so would
            // leave the batch stream with nothing to return.
            guard weight.isFinite, weight > 0, Self.perEpoch(count: counts[index], weight: weight) > 0 else {
                throw TrainingDataError.invalidMixtureWeight(path: names[index], weight: weight)
            }
        }
        self.counts = counts
        self.weights = weights
    }

    /// Samples of one epoch, grouped by source in source order. With `shuffle` false the fractional part
    /// takes each source's first samples, so the order is the manifests' own.
    public func samples(epoch: Int, seed: UInt64, shuffle: Bool) -> [SampleID] {
        var result: [SampleID] = []
        for (source, count) in counts.enumerated() {
            let weight = weights[source]
            let (repeats, extra) = Self.split(count: count, weight: weight)
            for _ in 0..<repeats { result += (0..<count).map { SampleID(source: source, index: $0) } }
            guard extra > 0 else { continue }
            var order = Array(0..<count)
            if shuffle {
                var generator = SeededGenerator(seed: seed, stream: 1, UInt64(epoch), UInt64(source))
                generator.shuffle(&order)
            }
            result += order.prefix(extra).map { SampleID(source: source, index: $0) }
        }
        return result
    }

    static func split(count: Int, weight: Double) -> (repeats: Int, extra: Int) {
        let repeats = Int(weight.rounded(.down))
        return (repeats, Int(((weight - Double(repeats)) * Double(count)).rounded()))
    }

    static func perEpoch(count: Int, weight: Double) -> Int {
        let (repeats, extra) = split(count: count, weight: weight)
        return repeats * count + extra
    }
}
