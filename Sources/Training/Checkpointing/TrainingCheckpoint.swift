import Foundation
import RadFM

/// A training checkpoint directory:
/// - `model.safetensors`: every parameter under RadFM's key names (a model directory's weights file,
///   loadable by `openCheckpoint(directory:)` and by PyTorch);
/// - `optimizer.safetensors`: AdamW's moments of each trained parameter, `<key>.exp_avg` and `<key>.exp_avg_sq`
///   as in PyTorch's optimizer state;
/// - `trainer_state.json`: step, optimizer step and hyper-parameters, schedule, data position and seed.
public enum TrainingCheckpoint {
    public static let modelFile = "model.safetensors"
    public static let optimizerFile = "optimizer.safetensors"
    public static let stateFile = "trainer_state.json"

    public static func save(_ parameters: ParameterSet, state: TrainerState, to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TrainingCheckpointError.unwritable(path: directory.path, reason: error.localizedDescription)
        }
        // The writers borrow the live buffers: a save must not double the trainer's memory.
        var model = SafetensorsWriter()
        var optimizer = SafetensorsWriter()
        for parameter in parameters.parameters {
            for key in [parameter.key] + parameter.aliases {
                model.add(key, shape: parameter.shape, borrowing: UnsafeBufferPointer(parameter.values))
            }
            if let m = parameter.firstMoment, let v = parameter.secondMoment {
                optimizer.add(parameter.key + ".exp_avg", shape: parameter.shape, borrowing: UnsafeBufferPointer(m))
                optimizer.add(parameter.key + ".exp_avg_sq", shape: parameter.shape, borrowing: UnsafeBufferPointer(v))
            }
        }
        try model.write(to: directory.appendingPathComponent(modelFile))
        try optimizer.write(to: directory.appendingPathComponent(optimizerFile))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let stateURL = directory.appendingPathComponent(stateFile)
        do {
            // Written last: its presence marks a complete checkpoint.
            try encoder.encode(state).write(to: stateURL, options: .atomic)
        } catch {
            throw TrainingCheckpointError.unwritable(path: stateURL.path, reason: error.localizedDescription)
        }
    }

    /// Reads weights and optimizer moments into `parameters` (which must have the same keys, shapes and
    /// frozen set as when saved) and returns the trainer state.
    public static func load(into parameters: ParameterSet, from directory: URL) throws -> TrainerState {
        let stateURL = directory.appendingPathComponent(stateFile)
        let state: TrainerState
        do {
            state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: stateURL))
        } catch {
            throw TrainingCheckpointError.unreadableState(path: stateURL.path, reason: "\(error)")
        }
        let model = try openCheckpoint(file: directory.appendingPathComponent(modelFile))
        let optimizer = try openCheckpoint(file: directory.appendingPathComponent(optimizerFile))
        for parameter in parameters.parameters {
            try model.read(parameter.key, into: parameter.values, expectedShape: parameter.shape)
            if let m = parameter.firstMoment, let v = parameter.secondMoment {
                try optimizer.read(parameter.key + ".exp_avg", into: m, expectedShape: parameter.shape)
                try optimizer.read(parameter.key + ".exp_avg_sq", into: v, expectedShape: parameter.shape)
            }
        }
        return state
    }
}

public enum TrainingCheckpointError: Error, CustomStringConvertible, Equatable {
    case unwritable(path: String, reason: String)
    case unreadableState(path: String, reason: String)

    public var description: String {
        switch self {
        case .unwritable(let path, let reason): return "cannot write checkpoint \(path): \(reason)"
        case .unreadableState(let path, let reason): return "cannot read trainer state \(path): \(reason)"
        }
    }
}
