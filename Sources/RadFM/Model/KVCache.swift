import Tensor

/// Keys and values of one sequence for every decoder layer, preallocated for the whole generation so that
/// appending a token is a row copy. Keys are stored after rotary embedding.
public final class KVCache {
    public let capacity: Int
    /// Positions already filled; the next token goes to position `length`.
    public internal(set) var length = 0
    let keys: [Tensor]
    let values: [Tensor]

    public init(layers: Int, width: Int, capacity: Int) {
        self.capacity = capacity
        keys = (0..<layers).map { _ in Tensor(zeros: [capacity, width]) }
        values = (0..<layers).map { _ in Tensor(zeros: [capacity, width]) }
    }
}
