import Foundation
import Imaging

/// Turns a validated event into a study whose files are known to exist and belong to it. Called from
/// several threads at once for the studies of one batch.
public protocol StudyLoading: Sendable {
    func load(_ event: StudyEvent) throws -> LoadedStudy
}

/// Locates a study's files under its storage root and reads their DICOM headers, refusing any file
/// that is missing, unsafe, not DICOM, or belongs to another study or series: feeding a model the
/// wrong patient's images is worse than not answering.
public struct StudyLoader: StudyLoading {
    public let locator: StudyLocator

    public init(locator: StudyLocator) { self.locator = locator }

    public func load(_ event: StudyEvent) throws -> LoadedStudy {
        var loaded: [LoadedSeries] = []
        loaded.reserveCapacity(event.series.count)
        for series in event.series {
            var files: [String] = []
            var headers: [DicomHeader] = []
            files.reserveCapacity(series.instances.count)
            headers.reserveCapacity(series.instances.count)
            for relative in series.instances {
                let path: String
                do { path = try locator.resolve(root: event.storageRoot, path: relative) } catch let error as StorageError {
                    throw StudyInputError(errorClass: "storage.\(error.kind.rawValue)", message: error.description)
                }
                let header: DicomHeader
                do { header = try DicomReader.readHeader(path: path) } catch let error as DicomError {
                    throw StudyInputError(errorClass: "dicom.\(error.kind.rawValue)", message: "\(event.storageRoot):\(relative): \(error.message)")
                }
                guard header.studyInstanceUID == event.studyInstanceUID else {
                    throw StudyInputError(errorClass: "dicom.studyMismatch",
                                          message: "\(event.storageRoot):\(relative): belongs to study \(header.studyInstanceUID), not \(event.studyInstanceUID)")
                }
                guard header.seriesInstanceUID == series.seriesInstanceUID else {
                    throw StudyInputError(errorClass: "dicom.seriesMismatch",
                                          message: "\(event.storageRoot):\(relative): belongs to series \(header.seriesInstanceUID), not \(series.seriesInstanceUID)")
                }
                files.append(path)
                headers.append(header)
            }
            loaded.append(LoadedSeries(seriesInstanceUID: series.seriesInstanceUID, modality: series.modality, files: files, headers: headers))
        }
        return LoadedStudy(event: event, series: loaded)
    }
}
