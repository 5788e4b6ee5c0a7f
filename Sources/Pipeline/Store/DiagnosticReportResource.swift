import Foundation

/// The study's results as a FHIR R4 DiagnosticReport, for integration engines that read results back
/// through their FHIR tooling. Marked preliminary and AI-asserted: it is a draft for a radiologist,
/// never a signed report. It names the study by its UID and accession only (no patient data).
///
/// Written straight to JSON text, keys in sorted order as `CanonicalJSON` writes them: the resource's
/// shape is fixed, and assembling it as nested `[String: Any]` dictionaries first made it the largest
/// client-side cost of a batch commit.
enum DiagnosticReportResource {
    /// `timestamp` formats FHIR instants; making one costs more than a report, so a batch shares one,
    /// and `issued`, the same for every report of a batch, is formatted once by the caller.
    static func json(event: StudyEvent, jobID: Int64, modelID: String, results: [TaskResult], issued: String,
                     timestamp: ISO8601DateFormatter) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(1024 + results.reduce(0) { $0 + $1.prompt.utf8.count + $1.output.text.utf8.count * 2 })
        func raw(_ text: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        func string(_ text: String) { CanonicalJSON.writeString(text, into: &out) }

        raw(#"{"category":[{"coding":[{"code":"RAD","display":"Radiology","system":"http://terminology.hl7.org/CodeSystem/v2-0074"}]}],"#)
        raw(#""code":{"coding":[{"code":"18748-4","display":"Diagnostic imaging study","system":"http://loinc.org"}]},"#)
        let firstOf = { (task: StudyTask) in results.first { $0.task == task } }
        if let diagnosis = firstOf(.diagnosis) ?? firstOf(.rationale) {
            raw(#""conclusion":"#)
            string(diagnosis.output.text)
            raw(",")
        }
        raw(#""effectiveDateTime":"#)
        string(timestamp.string(from: event.occurredAt))
        raw(#","id":"#)
        string("radfm-job-\(jobID)")
        raw(#","identifier":[{"system":"urn:radfm:event-id","value":"#)
        string(event.eventID)
        raw("}")
        if let accession = event.accessionNumber {
            raw(#",{"type":{"coding":[{"code":"ACSN","system":"http://terminology.hl7.org/CodeSystem/v2-0203"}]},"value":"#)
            string(accession)
            raw("}")
        }
        raw(#"],"imagingStudy":[{"identifier":{"system":"urn:dicom:uid","value":"#)
        string("urn:oid:" + event.studyInstanceUID)
        raw(#"}}],"issued":"#)
        string(issued)
        raw(#","meta":{"security":[{"code":"AIAST","display":"Artificial Intelligence asserted","system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue"}]},"#)
        raw(#""performer":[{"display":"#)
        string("RadFM model \(modelID)")
        raw(#"}],"presentedForm":["#)
        for (index, result) in results.enumerated() {
            if index > 0 { raw(",") }
            raw(#"{"contentType":"text/plain; charset=utf-8","data":"#)
            string(Data(result.output.text.utf8).base64EncodedString())
            raw(#","language":"en","title":"#)
            string("RadFM \(result.task.rawValue): \(result.prompt)")
            raw("}")
        }
        raw(#"],"resourceType":"DiagnosticReport","status":"preliminary"}"#)
        return String(decoding: out, as: UTF8.self)
    }

    static func timestampFormatter() -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
