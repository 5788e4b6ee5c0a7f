#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the id of a piece from a byte range without building a String: the BPE loop looks up every candidate
/// merge, so the lookup must not allocate. Open addressing over FNV-1a hashes; pieces are compared bytewise.
struct PieceTable {
    private let slots: [Int32]
    private let mask: Int
    private let bytes: [UInt8]
    private let starts: [Int]
    /// No piece is longer than this; longer candidates are rejected before hashing.
    let longestPiece: Int

    /// Indexes the pieces whose ids `include` accepts.
    init(model: SentencePieceModel, include: (Int) -> Bool) {
        var capacity = 16
        while capacity < model.pieceCount * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        let starts = (0..<model.pieceCount).map { model.pieceRange($0).lowerBound } + [model.pieceBytes.count]
        var longest = 0
        model.pieceBytes.withUnsafeBufferPointer { all in
            for id in 0..<model.pieceCount where include(id) && !model.pieceRange(id).isEmpty {
                let range = model.pieceRange(id)
                let found = Self.find(UnsafeBufferPointer(rebasing: all[range]), slots: slots, mask: mask, bytes: all, starts: starts)
                // The first of duplicate pieces wins, as in sentencepiece's piece map.
                guard found.id < 0 else { continue }
                slots[found.slot] = Int32(id)
                longest = max(longest, range.count)
            }
        }
        self.slots = slots
        self.mask = mask
        self.bytes = model.pieceBytes
        self.starts = starts
        longestPiece = longest
    }

    func id(of piece: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard piece.count > 0, piece.count <= longestPiece else { return nil }
        return bytes.withUnsafeBufferPointer { all in
            let found = Self.find(piece, slots: slots, mask: mask, bytes: all, starts: starts)
            return found.id >= 0 ? found.id : nil
        }
    }

    /// The slot holding `piece` (with its id) or the empty slot where it would go (id -1).
    private static func find(
        _ piece: UnsafeBufferPointer<UInt8>, slots: [Int32], mask: Int, bytes: UnsafeBufferPointer<UInt8>,
        starts: [Int]
    ) -> (slot: Int, id: Int32) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in piece { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = slots[slot]
            if id < 0 { return (slot, -1) }
            let start = starts[Int(id)]
            let length = starts[Int(id) + 1] - start
            if length == piece.count, memcmp(bytes.baseAddress! + start, piece.baseAddress!, length) == 0 {
                return (slot, id)
            }
            slot = (slot + 1) & mask
        }
    }
}
