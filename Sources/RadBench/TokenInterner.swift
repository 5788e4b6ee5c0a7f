/// Gives each distinct token a small integer id, so that n-gram counting hashes fixed-size keys instead of
/// strings. Tokens are runs of code units (Unicode scalar values, or bytes); looking one up hashes the slice
/// in place.
struct TokenInterner<Unit: Hashable> {
    private var ids: [ArraySlice<Unit>: Int32] = [:]

    mutating func id(of token: ArraySlice<Unit>) -> Int32 {
        if let known = ids[token] { return known }
        let next = Int32(ids.count)
        // A compact copy as the key, so the table does not keep every segment's whole text alive.
        ids[ArraySlice(Array(token))] = next
        return next
    }
}

/// Up to four token ids packed into two words; slots past the order hold 0, and ids are stored plus one,
/// so n-grams of different orders never share a key.
struct NGramKey: Hashable {
    private var low: UInt64
    private var high: UInt64

    static let maxOrder = 4

    /// The n-gram of `order` tokens that starts at `start` in `ids`.
    init(_ ids: UnsafeBufferPointer<Int32>, start: Int, order: Int) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        words.0 = UInt64(UInt32(bitPattern: ids[start]) &+ 1)
        if order > 1 { words.1 = UInt64(UInt32(bitPattern: ids[start + 1]) &+ 1) }
        if order > 2 { words.2 = UInt64(UInt32(bitPattern: ids[start + 2]) &+ 1) }
        if order > 3 { words.3 = UInt64(UInt32(bitPattern: ids[start + 3]) &+ 1) }
        low = words.0 | words.1 << 32
        high = words.2 | words.3 << 32
    }
}

/// Counts of every n-gram of orders 1...maxOrder in one token sequence; reused across segments so the
/// table's storage is allocated once per corpus, not once per sentence.
struct NGramCounts {
    private(set) var counts: [NGramKey: Int32] = [:]

    mutating func recount(_ ids: [Int32], orders: ClosedRange<Int>) {
        counts.removeAll(keepingCapacity: true)
        ids.withUnsafeBufferPointer { buffer in
            for order in orders where order <= buffer.count {
                for start in 0...(buffer.count - order) {
                    counts[NGramKey(buffer, start: start, order: order), default: 0] += 1
                }
            }
        }
    }

    subscript(key: NGramKey) -> Int32 { counts[key] ?? 0 }
}

extension NGramKey {
    /// How many tokens the n-gram holds.
    var order: Int {
        if high >> 32 != 0 { return 4 }
        if high != 0 { return 3 }
        return low >> 32 != 0 ? 2 : 1
    }
}
