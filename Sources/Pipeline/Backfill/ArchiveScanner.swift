import Foundation
import Imaging

/// One study found in an archive, ready to become an event.
public struct ArchiveStudy: Sendable {
    public let studyInstanceUID: String
    public let accessionNumber: String?
    public let series: [StudyEvent.Series]
    public var instanceCount: Int { series.reduce(0) { $0 + $1.instances.count } }
}

public struct ArchiveScan: Sendable {
    public var studies: [ArchiveStudy] = []
    public var filesSeen = 0
    /// Files that are not DICOM images (or could not be read), with the reason; reported, not fatal.
    public var skipped: [(path: String, reason: String)] = []
}

/// Walks a storage root and groups its DICOM files into studies and series by their UIDs (the
/// folder layout is not trusted: archives are laid out every which way).
public struct ArchiveScanner {
    public let locator: StudyLocator
    public let rootName: String

    public init(locator: StudyLocator, rootName: String) {
        self.locator = locator
        self.rootName = rootName
    }

    public func scan(progress: (ArchiveScan) -> Void = { _ in }) throws -> ArchiveScan {
        let rootDirectory = try locator.rootDirectory(rootName)
        guard let walker = FileManager.default.enumerator(atPath: rootDirectory) else {
            throw StorageError(kind: .missingFile, root: rootName, path: "", message: "cannot list \(rootDirectory)")
        }
        struct SeriesAccumulator { var modality: String; var instances: [(number: Int, path: String)] }
        struct StudyAccumulator { var accession: String?; var series: [String: SeriesAccumulator] = [:]; var order: [String] = [] }
        var studies: [String: StudyAccumulator] = [:]
        var studyOrder: [String] = []
        var scan = ArchiveScan()
        var seenInstances = Set<String>()

        while let relative = walker.nextObject() as? String {
            if let type = walker.fileAttributes?[.type] as? FileAttributeType, type != .typeRegular && type != .typeSymbolicLink { continue }
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            scan.filesSeen += 1
            if scan.filesSeen % 500 == 0 { progress(scan) }
            let path: String
            do { path = try locator.resolve(root: rootName, path: relative) } catch {
                scan.skipped.append((relative, "\(error)"))
                continue
            }
            let header: DicomHeader
            do { header = try DicomReader.readHeader(path: path) } catch let error as DicomError {
                scan.skipped.append((relative, error.kind == .notDicom ? "not DICOM" : error.message))
                continue
            }
            guard header.isImage else {
                scan.skipped.append((relative, "not an image object (SOP class \(header.sopClassUID))"))
                continue
            }
            guard seenInstances.insert(header.sopInstanceUID).inserted else {
                scan.skipped.append((relative, "duplicate SOP instance \(header.sopInstanceUID)"))
                continue
            }
            if studies[header.studyInstanceUID] == nil {
                studies[header.studyInstanceUID] = StudyAccumulator(accession: header.accessionNumber)
                studyOrder.append(header.studyInstanceUID)
            }
            if studies[header.studyInstanceUID]!.series[header.seriesInstanceUID] == nil {
                studies[header.studyInstanceUID]!.series[header.seriesInstanceUID] = SeriesAccumulator(modality: header.modality, instances: [])
                studies[header.studyInstanceUID]!.order.append(header.seriesInstanceUID)
            }
            studies[header.studyInstanceUID]!.series[header.seriesInstanceUID]!.instances.append((header.instanceNumber ?? Int.max, relative))
        }
        scan.studies = studyOrder.map { uid in
            let study = studies[uid]!
            let series = study.order.map { seriesUID -> StudyEvent.Series in
                let acc = study.series[seriesUID]!
                let ordered = acc.instances.sorted { ($0.number, $0.path) < ($1.number, $1.path) }.map(\.path)
                return StudyEvent.Series(seriesInstanceUID: seriesUID, modality: acc.modality.isEmpty ? "OT" : acc.modality, instances: ordered)
            }
            return ArchiveStudy(studyInstanceUID: uid, accessionNumber: study.accession.flatMap { $0.isEmpty ? nil : String($0.prefix(16)) }, series: series)
        }
        progress(scan)
        return scan
    }
}
