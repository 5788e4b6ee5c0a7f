import Foundation
import Imaging

/// One series of a study after its files were located and their headers read.
public struct LoadedSeries: Sendable {
    public let seriesInstanceUID: String
    public let modality: String
    /// Absolute, validated paths, in the event's order.
    public let files: [String]
    public let headers: [DicomHeader]
}

/// A study whose every instance exists inside its storage root and belongs to it.
public struct LoadedStudy: Sendable {
    public let event: StudyEvent
    public let series: [LoadedSeries]
}

/// One task for one study.
public struct InferenceRequest: Sendable {
    public let study: LoadedStudy
    public let task: StudyTask
    public let prompt: String
    /// The finding a yes/no diagnosis question asks about; nil for free-text tasks.
    public let label: String?

    public init(study: LoadedStudy, task: StudyTask, prompt: String, label: String? = nil) {
        self.study = study
        self.task = task
        self.prompt = prompt
        self.label = label
    }
}

public struct InferenceOutput: Sendable, Equatable {
    public let text: String
    public let promptTokens: Int
    public let generatedTokens: Int
    public let milliseconds: Double

    public init(text: String, promptTokens: Int, generatedTokens: Int, milliseconds: Double) {
        self.text = text
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.milliseconds = milliseconds
    }
}

/// A failure that belongs to one study's input (undecodable pixels, unusable series): the study is
/// dead-lettered and the rest of the batch goes on.
public struct StudyInputError: Error, CustomStringConvertible, Sendable {
    public let errorClass: String
    public let message: String
    public init(errorClass: String, message: String) {
        self.errorClass = errorClass
        self.message = message
    }
    public var description: String { message }
}

/// The model behind the pipeline. `run` receives every request of a batch at once so that the engine
/// can batch across studies; it returns one result per request, in order. A thrown error means the
/// whole batch could not run (the pipeline retries it); a `StudyInputError` result poisons only that
/// request's study.
public protocol InferenceEngine: AnyObject {
    /// Stable identifier of the model version (results are unique per model).
    var modelID: String { get }
    /// SHA-256 of the checkpoint, recorded in `models`.
    var checkpointSHA256: String? { get }
    /// Decoding settings that change outputs; part of each result's prompt hash.
    var generationSettings: String { get }
    func run(_ requests: [InferenceRequest]) throws -> [Result<InferenceOutput, StudyInputError>]
}
