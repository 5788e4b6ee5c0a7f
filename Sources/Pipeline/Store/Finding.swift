import RadBench

/// A yes/no diagnosis answer read as a finding: "yes" means present, "no" absent, anything the
/// parser cannot decide (hedges, free text) uncertain. RadBench's parser is the documented one, so
/// production rows and benchmark scores read answers the same way.
public struct Finding: Sendable, Equatable {
    public enum Status: String, Sendable { case present, absent, uncertain }

    public let label: String
    public let status: Status

    public init(label: String, answer: String) {
        self.label = label
        switch YesNoParser.parse(answer) {
        case .yes: status = .present
        case .no: status = .absent
        case .unknown: status = .uncertain
        }
    }
}
