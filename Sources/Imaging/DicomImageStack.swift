import Foundation

/// The instances that make one model image, in slice order: the slices of a series stacked along the
/// slice normal, or a single (possibly multi-frame) instance.
public struct DicomImageStack: Sendable {
    public let seriesInstanceUID: String
    public let modality: String
    public let instances: [DicomHeader]
    /// Millimetres between rows, columns and slices; the slice value is the median position step.
    public let spacing: [Double]?

    /// One instance as its own image: a 2D picture, or a volume when it has several frames.
    init(single instance: DicomHeader) {
        seriesInstanceUID = instance.seriesInstanceUID
        modality = instance.modality
        instances = [instance]
        spacing = instance.pixelSpacing.map { $0 + [instance.sliceThickness ?? 0] }
    }

    init(seriesInstanceUID: String, modality: String, instances: [DicomHeader], spacing: [Double]?) {
        self.seriesInstanceUID = seriesInstanceUID
        self.modality = modality
        self.instances = instances
        self.spacing = spacing
    }

    public var rows: Int { instances[0].rows }
    public var columns: Int { instances[0].columns }
    public var channels: Int { instances[0].channels }
    public var depth: Int { instances.count == 1 ? instances[0].frames : instances.count }
    public var isVolume: Bool { depth > 1 }
    public var voxelCount: Int { rows * columns * depth }
}

/// Orders the single-frame instances of one series into a stack.
///
/// Slices are sorted by their position along the slice normal (ImageOrientationPatient row x column,
/// dotted with ImagePositionPatient), or by InstanceNumber when any slice lacks position or orientation.
/// Rejected, with a SeriesError: mixed sizes or orientations, two slices at one position, and gaps
/// (a step above 1.5 times the median step, i.e. a missing slice). Nothing is repaired silently.
enum SliceOrdering {
    static let orientationTolerance = 1e-3
    static let gapFactor = 1.5

    static func stack(_ instances: [DicomHeader]) throws -> DicomImageStack {
        guard let first = instances.first else {
            throw SeriesError(kind: .noImages, seriesInstanceUID: "", message: "no image instances")
        }
        let uid = first.seriesInstanceUID
        func fail(_ kind: SeriesError.Kind, _ message: String) -> SeriesError {
            SeriesError(kind: kind, seriesInstanceUID: uid, message: message)
        }
        if let odd = instances.first(where: { $0.rows != first.rows || $0.columns != first.columns || $0.channels != first.channels }) {
            throw fail(.mixedSizes, "\(odd.path) is \(odd.rows)x\(odd.columns)x\(odd.channels), \(first.path) is "
                + "\(first.rows)x\(first.columns)x\(first.channels)")
        }
        let inPlaneSpacing = first.pixelSpacing
        if instances.count == 1 { return DicomImageStack(single: first) }

        let ordered: [DicomHeader]
        var sliceStep: Double?
        if let orientation = first.imageOrientationPatient,
           instances.allSatisfy({ $0.imagePositionPatient != nil && $0.imageOrientationPatient != nil }) {
            if let odd = instances.first(where: { !sameOrientation($0.imageOrientationPatient!, orientation) }) {
                throw fail(.mixedOrientations, "\(odd.path) has orientation \(odd.imageOrientationPatient!), "
                    + "\(first.path) has \(orientation)")
            }
            let normal = sliceNormal(orientation)
            let positioned = instances.map { (header: $0, position: dot($0.imagePositionPatient!, normal)) }
                .sorted { $0.position < $1.position }
            let steps = zip(positioned.dropFirst(), positioned).map { $0.position - $1.position }
            let median = steps.sorted()[steps.count / 2]
            for (index, step) in steps.enumerated() {
                if step < max(1e-4, median * 1e-3) {
                    throw fail(.duplicatePositions, "\(positioned[index].header.path) and \(positioned[index + 1].header.path) "
                        + "are both at \(positioned[index].position) mm along the slice normal")
                }
                if step > median * gapFactor {
                    throw fail(.gap, "\(millimetres(step)) between \(positioned[index].header.path) and "
                        + "\(positioned[index + 1].header.path), median step \(millimetres(median)): slices missing")
                }
            }
            ordered = positioned.map(\.header)
            sliceStep = median
        } else if instances.allSatisfy({ $0.instanceNumber != nil }) {
            ordered = instances.sorted { $0.instanceNumber! < $1.instanceNumber! }
            if let index = ordered.indices.dropLast().first(where: { ordered[$0].instanceNumber == ordered[$0 + 1].instanceNumber }) {
                throw fail(.duplicatePositions, "\(ordered[index].path) and \(ordered[index + 1].path) share "
                    + "InstanceNumber \(ordered[index].instanceNumber!) and have no ImagePositionPatient")
            }
        } else {
            throw fail(.unorderable, "slices have neither ImagePositionPatient with ImageOrientationPatient nor InstanceNumber")
        }
        let spacing = inPlaneSpacing.map { $0 + [sliceStep ?? first.sliceThickness ?? 0] }
        return DicomImageStack(seriesInstanceUID: uid, modality: first.modality, instances: ordered, spacing: spacing)
    }

    private static func millimetres(_ value: Double) -> String { String(format: "%.3f mm", value) }

    private static func sameOrientation(_ a: [Double], _ b: [Double]) -> Bool {
        zip(a, b).allSatisfy { abs($0 - $1) <= orientationTolerance }
    }

    private static func sliceNormal(_ orientation: [Double]) -> [Double] {
        let row = Array(orientation[0..<3]), column = Array(orientation[3..<6])
        return [row[1] * column[2] - row[2] * column[1],
                row[2] * column[0] - row[0] * column[2],
                row[0] * column[1] - row[1] * column[0]]
    }

    private static func dot(_ a: [Double], _ b: [Double]) -> Double { a[0] * b[0] + a[1] * b[1] + a[2] * b[2] }
}
