import Foundation

/// What a path holds, as `radfm inspect` prints it: the images found (series, modality, shape,
/// spacing), the DICOM series that do not form an image, and the files skipped and why.
public struct InspectionReport: Encodable, Sendable {
    public struct Image: Encodable, Sendable {
        public let format: String
        public let source: String
        public let seriesInstanceUID: String?
        public let modality: String?
        public let files: Int
        /// rows, columns, depth
        public let shape: [Int]
        public let channels: Int
        public let isVolume: Bool
        public let spacing: [Double]?
        public let photometricInterpretation: String?
        public let transferSyntaxUIDs: [String]?
    }

    public struct Skipped: Encodable, Sendable {
        public let path: String
        public let reason: String
    }

    public struct RejectedSeries: Encodable, Sendable {
        public let seriesInstanceUID: String
        public let problem: String
        public let message: String
    }

    public let path: String
    public let images: [Image]
    public let rejectedSeries: [RejectedSeries]
    public let skipped: [Skipped]
}

public enum ImageInspector {
    /// Reads headers only for DICOM; other formats are read whole.
    public static func inspect(path: String, limits: DicomLimits = .default) throws -> InspectionReport {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageFileError(kind: .notFound, path: path, message: "no such file or folder")
        }
        let lower = path.lowercased()
        if !isDirectory.boolValue, let format = [".nii.gz": "nifti", ".nii": "nifti", ".npy": "npy", ".png": "png", ".jpg": "jpeg",
                                                 ".jpeg": "jpeg"].first(where: { lower.hasSuffix($0.key) })?.value {
            let volume = try ImageLoader(imageSize: 1, policy: SeriesSelectionPolicy(maxImages: 1)).load(URL(fileURLWithPath: path))[0]
            let image = InspectionReport.Image(format: format, source: path, seriesInstanceUID: nil, modality: nil, files: 1,
                                               shape: [volume.rows, volume.columns, volume.depth], channels: volume.channels,
                                               isVolume: volume.isVolume, spacing: volume.spacing, photometricInterpretation: nil,
                                               transferSyntaxUIDs: nil)
            return InspectionReport(path: path, images: [image], rejectedSeries: [], skipped: [])
        }
        let inventory = DicomStudyScanner.scan(paths: [path], limits: limits)
        let images = inventory.stacks.map { stack in
            InspectionReport.Image(format: "dicom", source: stack.instances.count == 1 ? stack.instances[0].path : path,
                                   seriesInstanceUID: stack.seriesInstanceUID, modality: stack.modality, files: stack.instances.count,
                                   shape: [stack.rows, stack.columns, stack.depth], channels: stack.channels, isVolume: stack.isVolume,
                                   spacing: stack.spacing, photometricInterpretation: stack.instances[0].photometricInterpretation,
                                   transferSyntaxUIDs: Array(Set(stack.instances.map(\.transferSyntaxUID))).sorted())
        }
        return InspectionReport(
            path: path, images: images,
            rejectedSeries: inventory.rejectedSeries.map {
                InspectionReport.RejectedSeries(seriesInstanceUID: $0.seriesInstanceUID, problem: $0.kind.rawValue, message: $0.message)
            },
            skipped: inventory.skipped.map { InspectionReport.Skipped(path: $0.path, reason: $0.reason) })
    }
}
