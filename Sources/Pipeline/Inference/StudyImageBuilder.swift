import Foundation
import Imaging
import RadFM
import Tensor

/// A study's DICOM files to the model's images: series assembled into 2D images and volumes, the
/// selection policy applied (every image series up to the model's image limit, largest first), and
/// RadFM's preprocessing to [3, H, W, D] per image, one depth for the whole sample.
struct StudyImageBuilder {
    let policy: SeriesSelectionPolicy
    let preprocessor: RadFMPreprocessor

    init(config: RadFMConfig) {
        policy = SeriesSelectionPolicy(maxImages: config.maxImages)
        preprocessor = RadFMPreprocessor(imageSize: config.vision.imageSize)
    }

    func images(for study: LoadedStudy) throws -> [Tensor] {
        let inventory = DicomStudyScanner.assemble(headers: study.series.flatMap(\.headers))
        let stacks = policy.select(inventory.stacks)
        guard !stacks.isEmpty else {
            let why = inventory.rejectedSeries.first.map(\.description) ?? inventory.skipped.first.map { "\($0.path): \($0.reason)" }
            throw StudyInputError(errorClass: "imaging.noUsableImage",
                                  message: "study \(study.event.studyInstanceUID) has no image the model can read" + (why.map { ": " + $0 } ?? ""))
        }
        var volumes: [ImageVolume] = []
        for stack in stacks {
            do { volumes.append(try DicomVolumeLoader.load(stack)) } catch let error as DicomError {
                throw StudyInputError(errorClass: "dicom.\(error.kind.rawValue)", message: error.description)
            } catch {
                throw StudyInputError(errorClass: "imaging.undecodable", message: "series \(stack.seriesInstanceUID): \(error)")
            }
        }
        let sample = preprocessor.tensor(for: volumes)
        let perImage = sample.shape.dropFirst().reduce(1, *)
        let shape = Array(sample.shape.dropFirst())
        return sample.data.withUnsafeBufferPointer { data in
            (0..<volumes.count).map { index in
                let image = Tensor(zeros: shape)
                image.data.update(from: data.baseAddress! + index * perImage, count: perImage)
                return image
            }
        }
    }
}
