import Tensor

/// RadFM's fused token embedding as a gather: ids below `vocabulary` read the token table, the next two the
/// figure-marker table, and `vocabulary + 2 + k` visual token k of the sample. The backward scatters each
/// row's gradient back to the row it was read from.
public enum EmbeddingOp {
    public struct Tables {
        public var tokens: UnsafePointer<Float>
        public var figureTokens: UnsafePointer<Float>
        public var visualTokens: UnsafePointer<Float>?
        public var visualTokenCount: Int
        public var vocabulary: Int
        public var hidden: Int

        public init(tokens: UnsafePointer<Float>, figureTokens: UnsafePointer<Float>,
                    visualTokens: UnsafePointer<Float>?, visualTokenCount: Int, vocabulary: Int, hidden: Int) {
            self.tokens = tokens; self.figureTokens = figureTokens; self.visualTokens = visualTokens
            self.visualTokenCount = visualTokenCount; self.vocabulary = vocabulary; self.hidden = hidden
        }
    }

    public enum Source: Equatable {
        case token(Int)
        case figure(Int)
        case visual(Int)
    }

    /// Which table row id `id` reads, or nil when it names nothing (negative, or past the visual tokens).
    public static func source(of id: Int32, vocabulary: Int, visualTokenCount: Int) -> Source? {
        let value = Int(id)
        if value >= 0 && value < vocabulary { return .token(value) }
        if value >= vocabulary && value < vocabulary + 2 { return .figure(value - vocabulary) }
        if value >= vocabulary + 2 && value - vocabulary - 2 < visualTokenCount { return .visual(value - vocabulary - 2) }
        return nil
    }

    /// Writes one row per id; the ids must have been checked with `source(of:)`.
    public static func forward(_ ids: [Int32], tables: Tables, into output: UnsafeMutablePointer<Float>) {
        let hidden = tables.hidden
        for (row, id) in ids.enumerated() {
            let from: UnsafePointer<Float>
            switch source(of: id, vocabulary: tables.vocabulary, visualTokenCount: tables.visualTokenCount) {
            case .token(let index)?: from = tables.tokens + index * hidden
            case .figure(let index)?: from = tables.figureTokens + index * hidden
            case .visual(let index)?: from = tables.visualTokens! + index * hidden
            case nil: preconditionFailure("token id \(id) has no embedding")
            }
            (output + row * hidden).update(from: from, count: hidden)
        }
    }

    /// Adds each row of `dOutput` into the gradient of the row it was gathered from; nil tables are frozen
    /// (or, for visual tokens, have no image path to reach).
    public static func backward(
        _ dOutput: UnsafePointer<Float>, ids: [Int32], vocabulary: Int, hidden: Int, visualTokenCount: Int,
        dTokens: UnsafeMutablePointer<Float>?, dFigureTokens: UnsafeMutablePointer<Float>?,
        dVisualTokens: UnsafeMutablePointer<Float>?
    ) {
        for (row, id) in ids.enumerated() {
            let target: UnsafeMutablePointer<Float>?
            switch source(of: id, vocabulary: vocabulary, visualTokenCount: visualTokenCount) {
            case .token(let index)?: target = dTokens.map { $0 + index * hidden }
            case .figure(let index)?: target = dFigureTokens.map { $0 + index * hidden }
            case .visual(let index)?: target = dVisualTokens.map { $0 + index * hidden }
            case nil: preconditionFailure("token id \(id) has no embedding")
            }
            if let target { VectorMath.addScaled(dOutput + row * hidden, 1, into: target, hidden) }
        }
    }
}
