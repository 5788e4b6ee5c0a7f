import Foundation

/// SentencePiece's BPE encoder and its decoder, reproducing `bpe_model.cc` and `sentencepiece_processor.cc`:
/// the text is normalized (dummy prefix, spaces as U+2581), split into characters, and adjacent symbols are
/// merged while their concatenation is a piece, highest score first and leftmost first among equal scores.
/// Symbols that are not pieces fall back to `<0xXX>` byte pieces.
///
/// Merging keeps the symbols in a linked list and the candidate pairs in a heap, so a text of n characters
/// costs O(n log n) rather than the O(n²) of rescanning for the best pair after every merge.
final class SentencePieceBPE: Sendable {
    private let model: SentencePieceModel
    /// Pieces BPE may produce: normal, user-defined and unused ones (control, unknown and byte pieces are
    /// reserved, as in sentencepiece's `pieces_` map).
    private let mergeable: PieceTable
    private let userDefined: [[UInt8]]
    private let byteIDs: [Int32]
    private let byteValue: [Int16]

    private static let spaceSymbol: [UInt8] = Array("\u{2581}".utf8)

    init(model: SentencePieceModel) {
        self.model = model
        mergeable = PieceTable(model: model) { id in
            [.normal, .userDefined, .unused].contains(model.types[id])
        }
        userDefined = (0..<model.pieceCount).filter { model.types[$0] == .userDefined }
            .map { Array(model.pieceBytes[model.pieceRange($0)]) }
            .sorted { $0.count > $1.count }
        var byteIDs = [Int32](repeating: Int32(model.unknownID), count: 256)
        var byteValue = [Int16](repeating: -1, count: model.pieceCount)
        for id in 0..<model.pieceCount where model.types[id] == .byte {
            // Byte pieces are spelled "<0xXX>".
            let text = String(decoding: model.pieceBytes[model.pieceRange(id)], as: UTF8.self)
            if text.count == 6, text.hasPrefix("<0x"), text.hasSuffix(">"),
                let value = UInt8(text.dropFirst(3).prefix(2), radix: 16)
            {
                byteIDs[Int(value)] = Int32(id)
                byteValue[id] = Int16(value)
            }
        }
        self.byteIDs = byteIDs
        self.byteValue = byteValue
    }

    var pieceCount: Int { model.pieceCount }

    /// The piece's own text, such as `<s>` or `▁Hello`.
    func piece(_ id: Int32) -> String {
        String(decoding: model.pieceBytes[model.pieceRange(Int(id))], as: UTF8.self)
    }

    // MARK: Encoding

    /// Appends the ids of `text` (UTF-8) to `output`.
    func encode(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        let normalized = normalize(text)
        guard !normalized.isEmpty else { return }
        normalized.withUnsafeBufferPointer { merge($0, into: &output) }
    }

    /// The identity normalizer: optional whitespace cleanup, the dummy-prefix space, spaces escaped as U+2581.
    private func normalize(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let space = UInt8(ascii: " ")
        var start = 0
        var end = text.count
        if model.removeExtraWhitespaces {
            while start < end, text[start] == space { start += 1 }
            while end > start, text[end - 1] == space { end -= 1 }
        }
        guard start < end else { return [] }
        var output: [UInt8] = []
        output.reserveCapacity((end - start) * 3 + 3)
        let spaceBytes = model.escapeWhitespaces ? Self.spaceSymbol : [space]
        if model.addDummyPrefix { output.append(contentsOf: spaceBytes) }
        var previousWasSpace = false
        for index in start..<end {
            let byte = text[index]
            if byte == space {
                if model.removeExtraWhitespaces && previousWasSpace { continue }
                output.append(contentsOf: spaceBytes)
                previousWasSpace = true
            } else {
                output.append(byte)
                previousWasSpace = false
            }
        }
        return output
    }

    private struct Symbol {
        var start: Int
        var length: Int
        var previous: Int
        var next: Int
        /// User-defined pieces are never merged with their neighbours.
        var frozen: Bool
    }

    /// 20 bytes: the heap holds every pair ever queued, stale ones included, so its entries stay small.
    private struct Candidate {
        let score: Float
        let left: Int32
        let right: Int32
        let length: Int32
        /// The piece the pair would become.
        let id: Int32

        /// Heap order: higher score first, then the leftmost pair.
        @inline(__always) func precedes(_ other: Candidate) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    private func merge(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        var symbols = initialSymbols(text)
        var heap = CandidateHeap()
        var unusedMerges: [[UInt8]: (left: [UInt8], right: [UInt8])] = [:]

        func consider(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0, !symbols[left].frozen, !symbols[right].frozen else { return }
            let start = symbols[left].start
            let length = symbols[left].length + symbols[right].length
            guard let id = mergeable.id(of: UnsafeBufferPointer(rebasing: text[start..<(start + length)])) else { return }
            heap.push(
                Candidate(
                    score: model.scores[Int(id)], left: Int32(left), right: Int32(right), length: Int32(length), id: id))
        }

        for index in 1..<max(1, symbols.count) { consider(index - 1, index) }

        while let best = heap.pop() {
            let left = Int(best.left)
            let right = Int(best.right)
            let mergedLength = Int(best.length)
            // Stale: one side was merged away, or grew, since the pair was queued.
            guard symbols[left].length > 0, symbols[right].length > 0,
                symbols[left].length + symbols[right].length == mergedLength
            else { continue }
            if model.types[Int(best.id)] == .unused {
                let start = symbols[left].start
                unusedMerges[Array(text[start..<(start + mergedLength)])] = (
                    Array(text[start..<(start + symbols[left].length)]),
                    Array(text[symbols[right].start..<(symbols[right].start + symbols[right].length)])
                )
            }
            symbols[left].length = mergedLength
            symbols[left].next = symbols[right].next
            if symbols[right].next >= 0 { symbols[symbols[right].next].previous = left }
            symbols[right].length = 0
            consider(symbols[left].previous, left)
            consider(left, symbols[left].next)
        }

        var index = symbols.isEmpty ? -1 : 0
        while index >= 0 {
            let symbol = symbols[index]
            let piece = UnsafeBufferPointer(rebasing: text[symbol.start..<(symbol.start + symbol.length)])
            if unusedMerges.isEmpty {
                emit(piece, into: &output)
            } else {
                emitResegmenting(Array(piece), unusedMerges: unusedMerges, into: &output)
            }
            index = symbol.next
        }
    }

    /// One symbol per UTF-8 character, except that user-defined pieces are matched whole (longest first).
    private func initialSymbols(_ text: UnsafeBufferPointer<UInt8>) -> [Symbol] {
        var symbols: [Symbol] = []
        symbols.reserveCapacity(text.count)
        var position = 0
        while position < text.count {
            var length = 0
            var frozen = false
            for piece in userDefined where piece.count <= text.count - position {
                if piece.withUnsafeBufferPointer({ memcmp($0.baseAddress!, text.baseAddress! + position, piece.count) }) == 0 {
                    length = piece.count
                    frozen = true
                    break
                }
            }
            if length == 0 { length = min(Self.utf8Length(lead: text[position]), text.count - position) }
            let index = symbols.count
            symbols.append(
                Symbol(
                    start: position, length: length, previous: index - 1,
                    next: position + length < text.count ? index + 1 : -1, frozen: frozen))
            position += length
        }
        return symbols
    }

    @inline(__always) private static func utf8Length(lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: return 4
        case 0xE0...: return 3
        case 0xC0...: return 2
        default: return 1
        }
    }

    private func emit(_ piece: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        if let id = mergeable.id(of: piece) {
            output.append(id)
        } else if model.byteFallback {
            for byte in piece { output.append(byteIDs[Int(byte)]) }
        } else if output.last != Int32(model.unknownID) {
            // Without byte fallback, a run of unknown characters becomes a single unknown piece.
            output.append(Int32(model.unknownID))
        }
    }

    /// An unused piece is not emitted; the merge that produced it is undone, recursively, as sentencepiece does.
    private func emitResegmenting(
        _ piece: [UInt8], unusedMerges: [[UInt8]: (left: [UInt8], right: [UInt8])], into output: inout [Int32]
    ) {
        let id = piece.withUnsafeBufferPointer { mergeable.id(of: $0) }
        if let id, model.types[Int(id)] == .unused, let parts = unusedMerges[piece] {
            emitResegmenting(parts.left, unusedMerges: unusedMerges, into: &output)
            emitResegmenting(parts.right, unusedMerges: unusedMerges, into: &output)
        } else {
            piece.withUnsafeBufferPointer { emit($0, into: &output) }
        }
    }

    // MARK: Decoding

    /// The UTF-8 text of `ids`, all of which must be below `pieceCount`.
    func decode(_ ids: [Int32]) -> [UInt8] {
        guard !ids.isEmpty else { return [] }
        var output: [UInt8] = []
        var pendingBytes: [UInt8] = []
        // sentencepiece drops the dummy-prefix space of the first piece that produces text.
        var atStart = model.addDummyPrefix || model.removeExtraWhitespaces
        let space = Self.spaceSymbol

        func flushBytes() {
            guard !pendingBytes.isEmpty else { return }
            Self.appendReplacingInvalidUTF8(pendingBytes, to: &output)
            pendingBytes.removeAll(keepingCapacity: true)
            atStart = false
        }

        for rawID in ids {
            let id = Int(rawID)
            let value = byteValue[id]
            if value >= 0 {
                pendingBytes.append(UInt8(value))
                continue
            }
            flushBytes()
            switch model.types[id] {
            case .control:
                continue
            case .unknown:
                output.append(contentsOf: model.unknownSurface.utf8)
                atStart = false
            default:
                var range = model.pieceRange(id)
                var consumedPrefix = false
                if atStart, range.count >= space.count,
                    model.pieceBytes[range.lowerBound..<(range.lowerBound + space.count)].elementsEqual(space)
                {
                    range = (range.lowerBound + space.count)..<range.upperBound
                    consumedPrefix = true
                }
                let before = output.count
                Self.appendUnescapingSpaces(model.pieceBytes[range], to: &output)
                if consumedPrefix || output.count > before { atStart = false }
            }
        }
        flushBytes()
        return output
    }

    private static func appendUnescapingSpaces(_ piece: ArraySlice<UInt8>, to output: inout [UInt8]) {
        var index = piece.startIndex
        while index < piece.endIndex {
            if piece[index] == 0xE2, index + 2 < piece.endIndex, piece[index + 1] == 0x96, piece[index + 2] == 0x81 {
                output.append(UInt8(ascii: " "))
                index += 3
            } else {
                output.append(piece[index])
                index += 1
            }
        }
    }

    /// Valid UTF-8 sequences are kept; every byte that does not start one becomes U+FFFD on its own, as
    /// sentencepiece's byte-piece decoding does (Swift's decoder would merge a truncated sequence into one).
    static func appendReplacingInvalidUTF8(_ bytes: [UInt8], to output: inout [UInt8]) {
        var index = 0
        while index < bytes.count {
            let length = validSequenceLength(bytes, at: index)
            if length > 0 {
                output.append(contentsOf: bytes[index..<(index + length)])
                index += length
            } else {
                output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                index += 1
            }
        }
    }

    /// The length of the well-formed UTF-8 sequence at `index` (Unicode table 3-7), or 0.
    private static func validSequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let remaining = bytes.count - index
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            offset < remaining && range.contains(bytes[index + offset])
        }
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    /// A binary max-heap of merge candidates. Sifting moves a hole instead of swapping, and runs on the
    /// array's buffer: it is the innermost loop of encoding.
    private struct CandidateHeap {
        private var items: [Candidate] = []

        mutating func push(_ candidate: Candidate) {
            items.append(candidate)
            items.withUnsafeMutableBufferPointer { heap in
                var hole = heap.count - 1
                while hole > 0 {
                    let parent = (hole - 1) / 2
                    guard candidate.precedes(heap[parent]) else { break }
                    heap[hole] = heap[parent]
                    hole = parent
                }
                heap[hole] = candidate
            }
        }

        mutating func pop() -> Candidate? {
            guard let first = items.first else { return nil }
            let last = items.removeLast()
            guard !items.isEmpty else { return first }
            items.withUnsafeMutableBufferPointer { heap in
                var hole = 0
                while true {
                    var child = 2 * hole + 1
                    guard child < heap.count else { break }
                    if child + 1 < heap.count, heap[child + 1].precedes(heap[child]) { child += 1 }
                    guard heap[child].precedes(last) else { break }
                    heap[hole] = heap[child]
                    hole = child
                }
                heap[hole] = last
            }
            return first
        }
    }
}
