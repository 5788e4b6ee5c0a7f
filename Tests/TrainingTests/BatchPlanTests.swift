import Training
import XCTest

final class BatchPlanTests: XCTestCase {
    func testMixtureRepeatsWholeWeightsAndSubsamplesFractionsPerEpoch() throws {
        let mixture = try DataMixture(counts: [3, 40], weights: [2, 0.25], names: ["a", "b"])
        let epoch0 = mixture.samples(epoch: 0, seed: 9, shuffle: true)
        XCTAssertEqual(epoch0.filter { $0.source == 0 }.count, 6)
        XCTAssertEqual(epoch0.filter { $0.source == 1 }.count, 10)
        XCTAssertEqual(Set(epoch0.filter { $0.source == 1 }).count, 10, "drawn without replacement")
        XCTAssertEqual(epoch0, mixture.samples(epoch: 0, seed: 9, shuffle: true), "deterministic")
        XCTAssertNotEqual(epoch0, mixture.samples(epoch: 1, seed: 9, shuffle: true), "each epoch draws anew")
        XCTAssertEqual(mixture.samples(epoch: 0, seed: 9, shuffle: false).filter { $0.source == 1 }.map(\.index),
                       Array(0..<10))
    }

    func testWeightsThatContributeNothingAreRejected() {
        XCTAssertThrowsError(try DataMixture(counts: [3], weights: [0.1], names: ["tiny.jsonl"])) { error in
            XCTAssertEqual(error as? TrainingDataError, .invalidMixtureWeight(path: "tiny.jsonl", weight: 0.1))
        }
        XCTAssertThrowsError(try DataMixture(counts: [3], weights: [-1], names: ["n.jsonl"]))
    }

    func depths(_ count: Int) -> [Int] { (0..<count).map { [4, 4, 16, 4, 32][$0 % 5] } }

    func testBatchesNeverMixDepthsAndCoverEverySampleOncePerEpoch() throws {
        let mixture = try DataMixture(counts: [23], weights: [1], names: ["m"])
        let plan = try BatchPlan(mixture: mixture, depthGroup: [depths(23)], batchSize: 4, shuffle: true, seed: 3)
        let batches = plan.batches(epoch: 0)
        for batch in batches {
            XCTAssertEqual(Set(batch.map { depths(23)[$0.index] }).count, 1, "batch \(batch) mixes depths")
            XCTAssertLessThanOrEqual(batch.count, 4)
        }
        XCTAssertEqual(batches.flatMap { $0 }.map(\.index).sorted(), Array(0..<23))
        XCTAssertEqual(batches, plan.batches(epoch: 0))
        XCTAssertNotEqual(batches, plan.batches(epoch: 1))
        let other = try BatchPlan(mixture: mixture, depthGroup: [depths(23)], batchSize: 4, shuffle: true, seed: 4)
        XCTAssertNotEqual(batches, other.batches(epoch: 0))
    }

    func testWithoutShuffleTheFirstBatchIsTheFirstSamplesInOrder() throws {
        let mixture = try DataMixture(counts: [10], weights: [1], names: ["m"])
        let plan = try BatchPlan(mixture: mixture, depthGroup: [Array(repeating: 4, count: 10)], batchSize: 3,
                                 shuffle: false, seed: 0)
        XCTAssertEqual(plan.batches(epoch: 0).map { $0.map(\.index) }, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]])
    }

    func testStreamResumedFromItsPositionContinuesIdentically() throws {
        let mixture = try DataMixture(counts: [7], weights: [1], names: ["m"])
        let plan = try BatchPlan(mixture: mixture, depthGroup: [depths(7)], batchSize: 2, shuffle: true, seed: 5)
        var straight = BatchStream(plan: plan)
        let expected = (0..<12).map { _ in straight.next() }
        var first = BatchStream(plan: plan)
        let head = (0..<5).map { _ in first.next() }
        var resumed = BatchStream(plan: plan, position: first.position)
        let tail = (0..<7).map { _ in resumed.next() }
        XCTAssertEqual(head + tail, expected)
        XCTAssertGreaterThan(straight.position.epoch, 0, "the run crossed an epoch boundary")
    }

    func testGeneratorIsReproducibleAndUniformDrawsStayInRange() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        XCTAssertEqual((0..<5).map { _ in a.next() }, (0..<5).map { _ in b.next() })
        var counts = [Int](repeating: 0, count: 3)
        for _ in 0..<3000 { counts[a.uniform(below: 3)] += 1 }
        XCTAssertTrue(counts.allSatisfy { $0 > 900 && $0 < 1100 }, "\(counts)")
        XCTAssertNotEqual(SeededGenerator(seed: 1, stream: 1, 0).state, SeededGenerator(seed: 1, stream: 1, 1).state)
    }
}
