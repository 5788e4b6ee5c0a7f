import Foundation

/// The study's results as a FHIR R4 DiagnosticReport, for integration engines that read results back
/// through their FHIR tooling. Marked preliminary and AI-asserted: it is a draft for a radiologist,
/// never a signed report. It names the study by its UID and accession only (no patient data).
enum DiagnosticReportResource {
    /// `timestamp` formats FHIR instants; making one costs more than a report, so a batch shares one,
    /// and `issued`, the same for every report of a batch, is formatted once by the caller.
    static func make(event: StudyEvent, jobID: Int64, modelID: String, results: [TaskResult], issued: String,
                     timestamp: ISO8601DateFormatter) -> [String: Any] {
        var identifiers: [[String: Any]] = [["system": "urn:radfm:event-id", "value": event.eventID]]
        if let accession = event.accessionNumber {
            identifiers.append([
                "type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN"]]],
                "value": accession,
            ])
        }
        var resource: [String: Any] = [
            "resourceType": "DiagnosticReport",
            "id": "radfm-job-\(jobID)",
            "meta": ["security": [["system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "AIAST",
                                   "display": "Artificial Intelligence asserted"]]],
            "identifier": identifiers,
            "status": "preliminary",
            "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD", "display": "Radiology"]]]],
            "code": ["coding": [["system": "http://loinc.org", "code": "18748-4", "display": "Diagnostic imaging study"]]],
            "effectiveDateTime": timestamp.string(from: event.occurredAt),
            "issued": issued,
            "performer": [["display": "RadFM model \(modelID)"]],
            "imagingStudy": [["identifier": ["system": "urn:dicom:uid", "value": "urn:oid:" + event.studyInstanceUID]]],
        ]
        let byTask = Dictionary(results.map { ($0.task, $0) }, uniquingKeysWith: { first, _ in first })
        if let diagnosis = byTask[.diagnosis] ?? byTask[.rationale] {
            resource["conclusion"] = diagnosis.output.text
        }
        resource["presentedForm"] = results.map { result -> [String: Any] in
            ["contentType": "text/plain; charset=utf-8", "language": "en", "title": "RadFM \(result.task.rawValue): \(result.prompt)",
             "data": Data(result.output.text.utf8).base64EncodedString()]
        }
        return resource
    }

    static func timestampFormatter() -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
