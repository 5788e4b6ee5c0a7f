import Foundation

/// A file left out of a study, and why (a non-image object, or a file that could not be read).
public struct SkippedFile: Sendable {
    public let path: String
    public let reason: String
}

/// What a folder or list of DICOM files holds: the images it can feed the model, the series that do not
/// form a consistent image, and the files left out.
public struct DicomStudyInventory: Sendable {
    public let stacks: [DicomImageStack]
    public let rejectedSeries: [SeriesError]
    public let skipped: [SkippedFile]
}

/// Reads the headers of every file of a study (in parallel) and groups the images into stacks.
///
/// A series of single-frame instances becomes one volume when its modality is cross-sectional (CT, MR,
/// PT, NM) or every instance carries ImagePositionPatient and ImageOrientationPatient; otherwise (CR, DX,
/// MG, US, secondary captures) each instance is its own 2D image. A multi-frame instance is always its
/// own image.
public enum DicomStudyScanner {
    static let crossSectionalModalities: Set<String> = ["CT", "MR", "PT", "NM"]

    public static func scan(paths: [String], limits: DicomLimits = .default) -> DicomStudyInventory {
        let files = paths.flatMap(expand)
        var results = [Result<DicomHeader, DicomError>?](repeating: nil, count: files.count)
        results.withUnsafeMutableBufferPointer { slots in
            let slotsBase = slots.baseAddress!
            DispatchQueue.concurrentPerform(iterations: files.count) { index in
                do {
                    slotsBase[index] = .success(try DicomReader.readHeader(path: files[index], limits: limits))
                } catch let error as DicomError {
                    slotsBase[index] = .failure(error)
                } catch {
                    slotsBase[index] = .failure(DicomError(kind: .io, path: files[index], message: "\(error)"))
                }
            }
        }

        var skipped: [SkippedFile] = []
        var headers: [DicomHeader] = []
        for result in results {
            switch result! {
            case .failure(let error): skipped.append(SkippedFile(path: error.path, reason: error.description))
            case .success(let header): headers.append(header)
            }
        }
        let inventory = assemble(headers: headers)
        return DicomStudyInventory(stacks: inventory.stacks, rejectedSeries: inventory.rejectedSeries,
                                   skipped: skipped + inventory.skipped)
    }

    /// Groups headers already read (by the service's study loader, say) into stacks, without reading
    /// any file again.
    public static func assemble(headers: [DicomHeader]) -> DicomStudyInventory {
        var skipped: [SkippedFile] = []
        var images: [DicomHeader] = []
        var seenInstances: Set<String> = []
        for header in headers {
            if let reason = header.nonImageReason {
                skipped.append(SkippedFile(path: header.path, reason: reason))
            } else if !seenInstances.insert(header.sopInstanceUID).inserted {
                skipped.append(SkippedFile(path: header.path, reason: "same SOPInstanceUID as another file"))
            } else {
                images.append(header)
            }
        }

        var stacks: [DicomImageStack] = []
        var rejected: [SeriesError] = []
        let series = Dictionary(grouping: images, by: \.seriesInstanceUID)
        for uid in series.keys.sorted() {
            let instances = series[uid]!.sorted { $0.path < $1.path }
            let multiFrame = instances.filter { $0.frames > 1 }
            let singleFrame = instances.filter { $0.frames == 1 }
            stacks += multiFrame.map(DicomImageStack.init(single:))
            guard !singleFrame.isEmpty else { continue }
            let stackable = crossSectionalModalities.contains(singleFrame[0].modality.uppercased())
                || singleFrame.allSatisfy { $0.imagePositionPatient != nil && $0.imageOrientationPatient != nil }
            if stackable && singleFrame.count > 1 {
                do {
                    stacks.append(try SliceOrdering.stack(singleFrame))
                } catch let error as SeriesError {
                    rejected.append(error)
                } catch {
                    rejected.append(SeriesError(kind: .unorderable, seriesInstanceUID: uid, message: "\(error)"))
                }
            } else {
                stacks += singleFrame.map(DicomImageStack.init(single:))
            }
        }
        return DicomStudyInventory(stacks: stacks, rejectedSeries: rejected, skipped: skipped)
    }

    /// A folder stands for every regular file below it (hidden files excluded), in path order.
    static func expand(_ path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let root = URL(fileURLWithPath: path)
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil,
                                                              options: [.skipsHiddenFiles]) else { return [] }
        var files: [String] = []
        for case let url as URL in enumerator {
            // Links to files count as files (study folders assembled from links); which links may be
            // followed is the storage locator's decision, made before a path reaches this scanner.
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue { files.append(url.path) }
        }
        return files.sorted()
    }
}
