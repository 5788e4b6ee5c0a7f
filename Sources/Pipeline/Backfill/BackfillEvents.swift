import Foundation
import Postgres

public enum BackfillEvents {
    /// The event for one archived study. Without `fresh`, the event id is derived from the study and
    /// its file list, so publishing the same archive twice yields duplicate deliveries (recognised and
    /// audited) rather than duplicate work; `fresh` asks for reprocessing with a new id.
    public static func event(for study: ArchiveStudy, root: String, tasks: [StudyTask], fresh: Bool, now: Date = Date()) -> StudyEvent {
        let eventID: String
        if fresh {
            eventID = UUID().uuidString.lowercased()
        } else {
            var identity = root + "\n" + study.studyInstanceUID + "\n" + tasks.map(\.rawValue).joined(separator: ",")
            for series in study.series {
                identity += "\n" + series.seriesInstanceUID + ":" + series.instances.joined(separator: "|")
            }
            eventID = "backfill-" + SHA256.hex(identity).prefix(32)
        }
        return StudyEvent(eventID: eventID, occurredAt: now, studyInstanceUID: study.studyInstanceUID,
                          accessionNumber: study.accessionNumber, storageRoot: root, series: study.series,
                          tasks: tasks, question: nil)
    }
}
