import Foundation

/// What the model is asked to do for a study (DESIGN section 3, `tasks`).
public enum StudyTask: String, Sendable, Hashable, CaseIterable, Codable {
    case report, diagnosis, modality, vqa, rationale
}

/// A validated study event (DESIGN section 3). Construct it only through `StudyEventDecoder`.
public struct StudyEvent: Sendable, Equatable, Codable {
    public static let schema = "radfm.study-event/v1"

    public struct Series: Sendable, Equatable, Codable {
        public var seriesInstanceUID: String
        public var modality: String
        public var instances: [String]

        public init(seriesInstanceUID: String, modality: String, instances: [String]) {
            self.seriesInstanceUID = seriesInstanceUID
            self.modality = modality
            self.instances = instances
        }

        enum CodingKeys: String, CodingKey {
            case seriesInstanceUID = "series_instance_uid", modality, instances
        }
    }

    public var eventID: String
    public var occurredAt: Date
    public var studyInstanceUID: String
    public var accessionNumber: String?
    public var storageRoot: String
    public var series: [Series]
    public var tasks: [StudyTask]
    public var question: String?

    public init(eventID: String, occurredAt: Date, studyInstanceUID: String, accessionNumber: String?,
                storageRoot: String, series: [Series], tasks: [StudyTask], question: String?) {
        self.eventID = eventID
        self.occurredAt = occurredAt
        self.studyInstanceUID = studyInstanceUID
        self.accessionNumber = accessionNumber
        self.storageRoot = storageRoot
        self.series = series
        self.tasks = tasks
        self.question = question
    }

    public var instanceCount: Int { series.reduce(0) { $0 + $1.instances.count } }

    /// The wire form publishers send (and `radfm backfill` writes).
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(StudyEventDecoder.timestampFormatter.string(from: date))
        }
        // Encoding a value type with only strings, arrays and dates cannot fail.
        return Array(try! encoder.encode(WireForm(self)))
    }

    private struct WireForm: Encodable {
        let schema = StudyEvent.schema
        let event: StudyEvent
        init(_ event: StudyEvent) { self.event = event }
        enum CodingKeys: String, CodingKey {
            case schema, eventID = "event_id", occurredAt = "occurred_at", studyInstanceUID = "study_instance_uid"
            case accessionNumber = "accession_number", storageRoot = "storage_root", series, tasks, question
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(schema, forKey: .schema)
            try c.encode(event.eventID, forKey: .eventID)
            try c.encode(event.occurredAt, forKey: .occurredAt)
            try c.encode(event.studyInstanceUID, forKey: .studyInstanceUID)
            try c.encodeIfPresent(event.accessionNumber, forKey: .accessionNumber)
            try c.encode(event.storageRoot, forKey: .storageRoot)
            try c.encode(event.series, forKey: .series)
            try c.encode(event.tasks, forKey: .tasks)
            try c.encodeIfPresent(event.question, forKey: .question)
        }
    }
}

/// Why an event was refused. The reason text goes to the dead-letter topic, the `dead_letters`
/// table and the audit log; it names the offending field and never echoes patient data.
public struct EventValidationError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case oversize, notJSON, wrongSchema, missingField, invalidField
    }
    public let kind: Kind
    public let reason: String
    /// The event id when the payload had a readable one (the dead-letter row records it).
    public let eventID: String?

    public var description: String { reason }
}
