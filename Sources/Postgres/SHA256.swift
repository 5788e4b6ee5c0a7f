/// SHA-256 (FIPS 180-4). Migration checksums and the audit log's hash chain use it; written here so the
/// service needs no crypto library beyond what libpq already links.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Incremental hashing, for inputs too large to hold at once (checkpoints of tens of gigabytes).
    public struct Hasher {
        private var state = SHA256.initialState
        private var buffered = [UInt8](repeating: 0, count: 64)
        private var bufferedCount = 0
        private var totalBytes: UInt64 = 0
        private var schedule = [UInt32](repeating: 0, count: 64)

        public init() {}

        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { update($0) }
        }

        public mutating func update(_ input: UnsafeRawBufferPointer) {
            totalBytes &+= UInt64(input.count)
            var offset = 0
            if bufferedCount > 0 {
                let take = min(64 - bufferedCount, input.count)
                for i in 0..<take { buffered[bufferedCount + i] = input[i] }
                bufferedCount += take
                offset = take
                guard bufferedCount == 64 else { return }
                buffered.withUnsafeBytes { compressBlocks($0) }
                bufferedCount = 0
            }
            let wholeBlocks = (input.count - offset) / 64 * 64
            if wholeBlocks > 0 {
                compressBlocks(UnsafeRawBufferPointer(rebasing: input[offset ..< offset + wholeBlocks]))
                offset += wholeBlocks
            }
            for i in offset..<input.count { buffered[bufferedCount] = input[i]; bufferedCount += 1 }
        }

        /// Pads (0x80, zeros, the bit length big-endian) and returns the 32-byte digest.
        public mutating func finalize() -> [UInt8] {
            let bitLength = totalBytes &* 8
            var tail = [UInt8](repeating: 0, count: bufferedCount < 56 ? 64 : 128)
            for i in 0..<bufferedCount { tail[i] = buffered[i] }
            tail[bufferedCount] = 0x80
            for i in 0..<8 { tail[tail.count - 1 - i] = UInt8(truncatingIfNeeded: bitLength >> (8 * i)) }
            tail.withUnsafeBytes { compressBlocks($0) }
            bufferedCount = 0
            var digest = [UInt8]()
            digest.reserveCapacity(32)
            for word in state {
                digest.append(contentsOf: [UInt8(word >> 24), UInt8(word >> 16 & 0xff), UInt8(word >> 8 & 0xff), UInt8(word & 0xff)])
            }
            return digest
        }

        private mutating func compressBlocks(_ blocks: UnsafeRawBufferPointer) {
            SHA256.roundConstants.withUnsafeBufferPointer { constants in
                schedule.withUnsafeMutableBufferPointer { schedule in
                    state.withUnsafeMutableBufferPointer { state in
                        let bytes = blocks.bindMemory(to: UInt8.self)
                        for block in 0..<bytes.count / 64 {
                            SHA256.compress(UnsafeBufferPointer(rebasing: bytes[block * 64 ..< block * 64 + 64]),
                                            state: state, schedule: schedule, constants: constants)
                        }
                    }
                }
            }
        }
    }

    /// The digest of `bytes` as 64 lower-case hex digits (what `sha256sum` prints).
    public static func hex(_ bytes: [UInt8]) -> String {
        HexEncoding.encode(hash(bytes))
    }

    /// The digest of the UTF-8 bytes of `string` as 64 lower-case hex digits.
    public static func hex(_ string: String) -> String {
        hex(Array(string.utf8))
    }

    fileprivate static func compress(
        _ block: UnsafeBufferPointer<UInt8>, state: UnsafeMutableBufferPointer<UInt32>,
        schedule w: UnsafeMutableBufferPointer<UInt32>, constants k: UnsafeBufferPointer<UInt32>
    ) {
        for t in 0..<16 {
            w[t] = UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16
                | UInt32(block[4 * t + 2]) << 8 | UInt32(block[4 * t + 3])
        }
        for t in 16..<64 {
            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] &>> 3)
            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] &>> 10)
            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
        }
        var a = state[0], b = state[1], c = state[2], d = state[3]
        var e = state[4], f = state[5], g = state[6], h = state[7]
        for t in 0..<64 {
            let sum1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let choice = (e & f) ^ (~e & g)
            let t1 = h &+ sum1 &+ choice &+ k[t] &+ w[t]
            let sum0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            let t2 = sum0 &+ majority
            h = g; g = f; f = e; e = d &+ t1
            d = c; c = b; b = a; a = t1 &+ t2
        }
        state[0] = state[0] &+ a; state[1] = state[1] &+ b; state[2] = state[2] &+ c; state[3] = state[3] &+ d
        state[4] = state[4] &+ e; state[5] = state[5] &+ f; state[6] = state[6] &+ g; state[7] = state[7] &+ h
    }

    /// Masking shifts: Swift's plain `<<`/`>>` check for over-long shifts on every call.
    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x &>> n | x &<< (32 &- n) }

    fileprivate static let initialState: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]

    fileprivate static let roundConstants: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
}
