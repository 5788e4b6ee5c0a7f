import Foundation

/// A study laid out by `Deploy/local/make-sample-studies.py`, as its `manifest.json` lists it (series in the
/// event schema's own shape). `radfm bench pipeline` and the integration tests publish events for them.
public struct SampleStudy: Decodable, Sendable, Equatable {
    public var studyInstanceUID: String
    public var accessionNumber: String
    public var series: [StudyEvent.Series]

    enum CodingKeys: String, CodingKey {
        case studyInstanceUID = "study_instance_uid", accessionNumber = "accession_number", series
    }

    /// The studies of one `manifest.json`; instance paths are relative to the manifest's folder.
    public static func load(manifest: URL) throws -> [SampleStudy] {
        try JSONDecoder().decode([SampleStudy].self, from: Data(contentsOf: manifest))
    }

    /// The same study with its instance paths under `folder` (when the manifest's folder is a subfolder of
    /// the storage root).
    public func under(folder: String) -> SampleStudy {
        var moved = self
        for index in moved.series.indices {
            moved.series[index].instances = moved.series[index].instances.map { folder + "/" + $0 }
        }
        return moved
    }

    public func event(storageRoot: String, tasks: [StudyTask], eventID: String = UUID().uuidString.lowercased()) -> StudyEvent {
        StudyEvent(eventID: eventID, occurredAt: Date(), studyInstanceUID: studyInstanceUID, accessionNumber: accessionNumber,
                   storageRoot: storageRoot, series: series, tasks: tasks, question: nil)
    }
}
