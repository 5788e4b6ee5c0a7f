/// SplitMix64: a tiny generator whose whole state is one integer, so it is saved in checkpoints and gives
/// the same sequence on every platform and Swift version. Shuffles and draws use only `next()` and the
/// helpers below, never the standard library's `shuffle(using:)`, whose algorithm is not specified.
public struct SeededGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one named use of a seed (an epoch's order, a source's subsample), so that streams
    /// derived from one seed are independent of each other and of how many draws the others made.
    public init(seed: UInt64, stream: UInt64...) {
        var mixer = SeededGenerator(seed: seed)
        var state = mixer.next()
        for value in stream {
            mixer = SeededGenerator(seed: state ^ (value &* 0x9E37_79B9_7F4A_7C15))
            state = mixer.next()
        }
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<bound` without modulo bias (Lemire's multiply-and-reject).
    public mutating func uniform(below bound: Int) -> Int {
        precondition(bound > 0)
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// Fisher-Yates, last element first.
    public mutating func shuffle<Element>(_ elements: inout [Element]) {
        guard elements.count > 1 else { return }
        for i in stride(from: elements.count - 1, to: 0, by: -1) {
            elements.swapAt(i, uniform(below: i + 1))
        }
    }

    /// Uniform in [0, 1) with 24 random bits: what a float32 sample needs.
    public mutating func unitFloat() -> Float { Float(next() >> 40) * 0x1p-24 }
}
