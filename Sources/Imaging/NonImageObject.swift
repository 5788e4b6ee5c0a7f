/// DICOM objects that carry no picture for the model even when some of them hold pixel data
/// (RT dose grids, segmentations): recognised by SOP class, then by modality.
enum NonImageObject {
    private static let classPrefixes: [(prefix: String, kind: String)] = [
        ("1.2.840.10008.5.1.4.1.1.88.", "structured report"),
        ("1.2.840.10008.5.1.4.1.1.11.", "presentation state"),
        ("1.2.840.10008.5.1.4.1.1.66", "segmentation or registration"),
        ("1.2.840.10008.5.1.4.1.1.481.", "radiotherapy"),
        ("1.2.840.10008.5.1.4.1.1.9.", "waveform"),
        ("1.2.840.10008.5.1.4.1.1.104.", "encapsulated document"),
        ("1.2.840.10008.5.1.4.1.1.67", "real world value mapping"),
        ("1.2.840.10008.5.1.4.1.1.68.", "surface"),
        ("1.2.840.10008.5.1.4.1.1.91.", "content assessment"),
        ("1.2.840.10008.1.3.10", "DICOMDIR"),
    ]
    private static let modalities: [String: String] = [
        "SR": "structured report", "PR": "presentation state", "SEG": "segmentation", "REG": "registration",
        "KO": "key object selection", "RTSTRUCT": "radiotherapy", "RTPLAN": "radiotherapy", "RTDOSE": "radiotherapy",
        "RTRECORD": "radiotherapy", "RTIMAGE": "radiotherapy", "ECG": "waveform", "HD": "waveform", "AU": "waveform",
        "DOC": "encapsulated document",
    ]

    static func kind(sopClassUID: String, modality: String) -> String? {
        if let match = classPrefixes.first(where: { sopClassUID.hasPrefix($0.prefix) }) { return match.kind }
        return modalities[modality.uppercased()]
    }
}
