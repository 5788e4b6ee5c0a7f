import Foundation
import Kafka
import Pipeline
import XCTest

/// The studies of a batch are read several at a time: outcomes must not depend on it, a corrupt study
/// must still fail alone, and the configured bound must hold.
final class ConcurrentStudyLoadingTests: XCTestCase {
    private var root: URL!
    private var studyUID = ""
    private var seriesUID = ""

    override func setUpWithError() throws {
        let source = try SampleDicom.ctSmall()
        studyUID = source.studyUID
        seriesUID = source.seriesUID
        root = FileManager.default.temporaryDirectory.appendingPathComponent("loading-\(UUID().uuidString)")
        for study in 0..<8 {
            let folder = root.appendingPathComponent("S\(study)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: source.path, toPath: folder.appendingPathComponent("IM1.dcm").path)
        }
        try Data("not a DICOM file at all".utf8).write(to: root.appendingPathComponent("S3/IM1.dcm"))
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: root)
    }

    private func messages(count: Int) -> [KafkaMessage] {
        (0..<count).map { index in
            let event = StudyEvent(eventID: "event-\(index)", occurredAt: Date(), studyInstanceUID: studyUID, accessionNumber: nil,
                                   storageRoot: "archive",
                                   series: [.init(seriesInstanceUID: seriesUID, modality: "CT", instances: ["S\(index % 8)/IM1.dcm"])],
                                   tasks: [.report, .diagnosis], question: nil)
            return KafkaMessage(topic: "studies", partition: 0, offset: Int64(index), key: nil, value: event.encoded())
        }
    }

    private func processor(loader: StudyLoading, concurrency: Int) -> StudyProcessor {
        StudyProcessor(decoder: StudyEventDecoder(maxEventBytes: 1 << 20, defaultTasks: [.report]), loader: loader,
                       engine: EchoEngine(), prompts: RadFMSettings().prompts, decodeConcurrency: concurrency)
    }

    private var realLoader: StudyLoader { StudyLoader(locator: StudyLocator(roots: ["archive": root.path])) }

    func testConcurrentLoadingGivesTheSequentialOutcomesAndTheCorruptStudyIsDeadLetteredAlone() throws {
        let batch = messages(count: 8)
        let sequential = try processor(loader: realLoader, concurrency: 1).process(batch).map(Outcome.init)
        let concurrent = try processor(loader: realLoader, concurrency: 4).process(batch).map(Outcome.init)

        XCTAssertEqual(concurrent, sequential)
        XCTAssertEqual(concurrent.map(\.offset), Array(0..<8))
        for outcome in concurrent where outcome.offset != 3 {
            XCTAssertEqual(outcome.summary, "completed event-\(outcome.offset): report event-\(outcome.offset); diagnosis event-\(outcome.offset)")
        }
        XCTAssertTrue(concurrent[3].summary.hasPrefix("dead-lettered dicom."), concurrent[3].summary)
    }

    func testNoMoreStudiesAreReadAtOnceThanTheBound() throws {
        let loader = InFlightCountingLoader(wrapping: realLoader, bound: 3, expectedCalls: 8)
        let outcomes = try processor(loader: loader, concurrency: 3).process(messages(count: 8))

        XCTAssertEqual(loader.maximumInFlight, 3)
        XCTAssertEqual(loader.calls, 8)
        XCTAssertEqual(outcomes.filter { if case .completed = $0.outcome { return true } else { return false } }.count, 7)
    }
}

/// What the tests compare of an outcome: its place in the batch and what it says.
private struct Outcome: Equatable {
    let offset: Int
    let summary: String

    init(_ message: ProcessedMessage) {
        offset = Int(message.position.offset)
        switch message.outcome {
        case .completed(let event, _, let results):
            summary = "completed \(event.eventID): " + results.map { "\($0.task.rawValue) \($0.output.text)" }.joined(separator: "; ")
        case .deadLettered(let letter):
            summary = "dead-lettered \(letter.errorClass) \(letter.eventID ?? "-")"
        }
    }
}

/// Answers each request with the event it came from, so a result can be traced back to its event.
private final class EchoEngine: InferenceEngine {
    let modelID = "echo"
    let checkpointSHA256: String? = nil
    let generationSettings = "echo"

    func run(_ requests: [InferenceRequest]) throws -> [Result<InferenceOutput, StudyInputError>] {
        requests.map { .success(InferenceOutput(text: $0.study.event.eventID, promptTokens: 1, generatedTokens: 1, milliseconds: 0)) }
    }
}

/// A real loader that records how many loads run at once. Each load waits (up to a few seconds) until
/// `bound` loads are in flight or every expected load has started, so a pool that runs fewer at once
/// than allowed shows up as a lower maximum, and one that runs more shows up as a higher one.
private final class InFlightCountingLoader: StudyLoading, @unchecked Sendable {
    private let inner: StudyLoader
    private let bound: Int
    private let expectedCalls: Int
    private let condition = NSCondition()
    private var inFlight = 0
    private(set) var maximumInFlight = 0
    private(set) var calls = 0

    init(wrapping inner: StudyLoader, bound: Int, expectedCalls: Int) {
        self.inner = inner
        self.bound = bound
        self.expectedCalls = expectedCalls
    }

    func load(_ event: StudyEvent) throws -> LoadedStudy {
        condition.lock()
        inFlight += 1
        calls += 1
        maximumInFlight = max(maximumInFlight, inFlight)
        condition.broadcast()
        let giveUp = Date().addingTimeInterval(5)
        while inFlight < bound && calls < expectedCalls && condition.wait(until: giveUp) {}
        condition.unlock()
        defer {
            condition.lock()
            inFlight -= 1
            condition.unlock()
        }
        return try inner.load(event)
    }
}
