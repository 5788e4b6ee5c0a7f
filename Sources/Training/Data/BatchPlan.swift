/// Where a run is in its data: the epoch and the next batch of that epoch. Epoch orders are recomputed from
/// the seed, so this pair is the whole data state a checkpoint needs.
public struct DataPosition: Codable, Equatable, Sendable {
    public var epoch: Int
    public var batch: Int

    public init(epoch: Int = 0, batch: Int = 0) {
        self.epoch = epoch
        self.batch = batch
    }
}

/// Batches as RadFM's `My_DistributedBatchSampler` makes them: samples are grouped by their input depth
/// (RadFM keeps 2D and 3D datasets apart; a batch must stack into one [B, 3, H, W, D] tensor), shuffled
/// within each group, cut into batches, and the batch list shuffled. The last batch of a group may be short.
public struct BatchPlan: Sendable {
    public let mixture: DataMixture
    /// `depthGroup[source][index]`: the depth the sample's images are resized to (4 for 2D and text-only).
    public let depthGroup: [[Int]]
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64

    public init(mixture: DataMixture, depthGroup: [[Int]], batchSize: Int, shuffle: Bool, seed: UInt64) throws {
        guard batchSize > 0 else { throw TrainingDataError.invalidBatchSize(batchSize) }
        precondition(depthGroup.map(\.count) == mixture.counts, "one depth per sample of every source")
        self.mixture = mixture
        self.depthGroup = depthGroup
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
    }

    /// The batches of `epoch`. Without shuffling, batches keep manifest order: each depth's samples are cut
    /// in order and the batches sorted by their first sample, so the first batch is the first B samples
    /// whenever those share a depth.
    public func batches(epoch: Int) -> [[SampleID]] {
        let samples = mixture.samples(epoch: epoch, seed: seed, shuffle: shuffle)
        var groups: [Int: [(order: Int, id: SampleID)]] = [:]
        for (order, id) in samples.enumerated() {
            groups[depthGroup[id.source][id.index], default: []].append((order, id))
        }
        var batches: [[(order: Int, id: SampleID)]] = []
        for depth in groups.keys.sorted() {
            var members = groups[depth]!
            if shuffle {
                var generator = SeededGenerator(seed: seed, stream: 2, UInt64(epoch), UInt64(depth))
                generator.shuffle(&members)
            }
            for start in stride(from: 0, to: members.count, by: batchSize) {
                batches.append(Array(members[start..<min(start + batchSize, members.count)]))
            }
        }
        if shuffle {
            var generator = SeededGenerator(seed: seed, stream: 3, UInt64(epoch))
            generator.shuffle(&batches)
        } else {
            batches.sort { $0[0].order < $1[0].order }
        }
        return batches.map { $0.map(\.id) }
    }
}

/// An endless sequence of batches over epochs, resumable from a `DataPosition`.
public struct BatchStream: Sendable {
    public let plan: BatchPlan
    public private(set) var position: DataPosition
    private var epochBatches: [[SampleID]]

    public init(plan: BatchPlan, position: DataPosition = DataPosition()) {
        self.plan = plan
        self.position = position
        epochBatches = plan.batches(epoch: position.epoch)
    }

    public mutating func next() -> [SampleID] {
        while position.batch >= epochBatches.count {
            position = DataPosition(epoch: position.epoch + 1, batch: 0)
            epochBatches = plan.batches(epoch: position.epoch)
        }
        defer { position.batch += 1 }
        return epochBatches[position.batch]
    }
}
