import Foundation

/// Turns raw Kafka payloads into validated `StudyEvent`s. Unknown fields are ignored (publishers may
/// add fields); missing required fields, malformed UIDs, unsafe paths and oversize payloads are refused
/// with a reason that names the field.
public struct StudyEventDecoder: Sendable {
    public var maxEventBytes: Int
    public var defaultTasks: [StudyTask]
    /// Caps that keep one event from occupying a worker indefinitely.
    public var maxSeries = 1_000
    public var maxInstances = 100_000

    public init(maxEventBytes: Int, defaultTasks: [StudyTask]) {
        self.maxEventBytes = maxEventBytes
        self.defaultTasks = defaultTasks
    }

    nonisolated(unsafe) static let timestampFormatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f
    }()

    public func decode(_ payload: [UInt8]) throws -> StudyEvent {
        guard payload.count <= maxEventBytes else {
            throw EventValidationError(kind: .oversize, reason: "event is \(payload.count) bytes, over the limit of \(maxEventBytes)", eventID: nil)
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(payload), options: [])
        } catch {
            throw EventValidationError(kind: .notJSON, reason: "payload is not valid JSON", eventID: nil)
        }
        guard let root = object as? [String: Any] else {
            throw EventValidationError(kind: .notJSON, reason: "payload is not a JSON object", eventID: nil)
        }
        // The event id is read first so that every later refusal can carry it.
        let eventID = (root["event_id"] as? String).flatMap { Self.isValidEventID($0) ? $0 : nil }
        func fail(_ kind: EventValidationError.Kind, _ reason: String) -> EventValidationError {
            EventValidationError(kind: kind, reason: reason, eventID: eventID)
        }
        func requiredString(_ key: String, in map: [String: Any], at path: String) throws -> String {
            guard let raw = map[key], !(raw is NSNull) else { throw fail(.missingField, "missing required field \(path)\(key)") }
            guard let value = raw as? String else { throw fail(.invalidField, "\(path)\(key) must be a string") }
            return value
        }

        let schema = try requiredString("schema", in: root, at: "")
        guard schema == StudyEvent.schema else {
            throw fail(.wrongSchema, "schema is '\(schema.prefix(64))', expected '\(StudyEvent.schema)'")
        }
        let rawEventID = try requiredString("event_id", in: root, at: "")
        guard let eventID, eventID == rawEventID else {
            throw fail(.invalidField, "event_id must be 1-128 printable ASCII characters")
        }
        let occurredText = try requiredString("occurred_at", in: root, at: "")
        guard let occurredAt = RFC3339Timestamp.parse(occurredText) else {
            throw fail(.invalidField, "occurred_at is not an RFC 3339 timestamp")
        }
        let studyUID = try requiredString("study_instance_uid", in: root, at: "")
        guard DicomUID.isValid(studyUID) else { throw fail(.invalidField, "study_instance_uid is not a valid DICOM UID") }

        var accession: String?
        if let raw = root["accession_number"], !(raw is NSNull) {
            guard let value = raw as? String, value.utf8.count <= 16 else {
                throw fail(.invalidField, "accession_number must be a string of at most 16 characters")
            }
            accession = value
        }
        let storageRoot = try requiredString("storage_root", in: root, at: "")
        guard !storageRoot.isEmpty else { throw fail(.invalidField, "storage_root is empty") }

        guard let rawSeries = root["series"], !(rawSeries is NSNull) else { throw fail(.missingField, "missing required field series") }
        guard let seriesList = rawSeries as? [Any], !seriesList.isEmpty else {
            throw fail(.invalidField, "series must be a non-empty array")
        }
        guard seriesList.count <= maxSeries else { throw fail(.invalidField, "event lists \(seriesList.count) series, over the limit of \(maxSeries)") }
        var series: [StudyEvent.Series] = []
        var instanceTotal = 0
        var seenSeries = Set<String>()
        for (index, item) in seriesList.enumerated() {
            let at = "series[\(index)]."
            guard let map = item as? [String: Any] else { throw fail(.invalidField, "series[\(index)] must be an object") }
            let seriesUID = try requiredString("series_instance_uid", in: map, at: at)
            guard DicomUID.isValid(seriesUID) else { throw fail(.invalidField, "\(at)series_instance_uid is not a valid DICOM UID") }
            guard seenSeries.insert(seriesUID).inserted else { throw fail(.invalidField, "\(at)series_instance_uid is listed twice") }
            let modality = try requiredString("modality", in: map, at: at)
            guard !modality.isEmpty, modality.utf8.count <= 16 else { throw fail(.invalidField, "\(at)modality must be 1-16 characters") }
            guard let rawInstances = map["instances"], !(rawInstances is NSNull) else { throw fail(.missingField, "missing required field \(at)instances") }
            guard let instances = rawInstances as? [String], !instances.isEmpty else {
                throw fail(.invalidField, "\(at)instances must be a non-empty array of paths")
            }
            for (i, path) in instances.enumerated() {
                if let problem = StoragePathRules.problem(with: path) {
                    throw fail(.invalidField, "\(at)instances[\(i)]: \(problem)")
                }
            }
            instanceTotal += instances.count
            guard instanceTotal <= maxInstances else { throw fail(.invalidField, "event lists more than \(maxInstances) instances") }
            series.append(.init(seriesInstanceUID: seriesUID, modality: modality, instances: instances))
        }

        var tasks = defaultTasks
        if let raw = root["tasks"], !(raw is NSNull) {
            guard let names = raw as? [String], !names.isEmpty else { throw fail(.invalidField, "tasks must be a non-empty array of task names") }
            tasks = []
            for name in names {
                guard let task = StudyTask(rawValue: name) else {
                    throw fail(.invalidField, "unknown task '\(name.prefix(32))' (known: \(StudyTask.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                if !tasks.contains(task) { tasks.append(task) }
            }
        }
        var question: String?
        if let raw = root["question"], !(raw is NSNull) {
            guard let text = raw as? String else { throw fail(.invalidField, "question must be a string") }
            question = text.isEmpty ? nil : text
        }
        if tasks.contains(.vqa), question == nil {
            throw fail(.invalidField, "task vqa needs a question")
        }
        return StudyEvent(eventID: eventID, occurredAt: occurredAt, studyInstanceUID: studyUID, accessionNumber: accession,
                          storageRoot: storageRoot, series: series, tasks: tasks, question: question)
    }

    static func isValidEventID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128 && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

/// DICOM UID syntax (PS3.5 9.1): at most 64 characters, dot-separated numeric components, no
/// leading zero in a multi-digit component.
public enum DicomUID {
    public static func isValid(_ uid: String) -> Bool {
        let bytes = Array(uid.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        var componentStart = 0
        for i in 0...bytes.count {
            if i == bytes.count || bytes[i] == UInt8(ascii: ".") {
                let length = i - componentStart
                if length == 0 { return false }
                if length > 1 && bytes[componentStart] == UInt8(ascii: "0") { return false }
                componentStart = i + 1
            } else if bytes[i] < UInt8(ascii: "0") || bytes[i] > UInt8(ascii: "9") {
                return false
            }
        }
        return true
    }
}
