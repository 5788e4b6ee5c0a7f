/// Length of the longest common subsequence of two token-id sequences: the classic dynamic programme, kept
/// to one row of the table so memory is O(min side) rather than O(m n).
enum LongestCommonSubsequence {
    static func length(_ first: [Int32], _ second: [Int32]) -> Int {
        let (outer, inner) = first.count >= second.count ? (first, second) : (second, first)
        guard !inner.isEmpty else { return 0 }
        var row = [Int32](repeating: 0, count: inner.count + 1)
        outer.withUnsafeBufferPointer { outer in
            inner.withUnsafeBufferPointer { inner in
                row.withUnsafeMutableBufferPointer { row in
                    for token in outer {
                        // `diagonal` is the previous row's value at column j-1, before it is overwritten.
                        var diagonal: Int32 = 0
                        for column in 1...inner.count {
                            let above = row[column]
                            row[column] = token == inner[column - 1] ? diagonal + 1 : max(above, row[column - 1])
                            diagonal = above
                        }
                    }
                }
            }
        }
        return Int(row[inner.count])
    }
}
