import Tensor

/// Rotary embedding (Hugging Face LLaMA's half rotation). Each head vector is rotated by a position-dependent
/// angle, an orthogonal map, so the backward is the rotation by the negated angle: the same kernel at
/// negated positions (cos is even and sin odd in libm, so the angles match the forward bit for bit).
public enum RotaryOp {
    public static func forward(
        _ rotary: RotaryEmbedding, _ data: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, heads: Int,
        positions: UnsafePointer<Int32>
    ) {
        rotary.apply(to: data, rows: rows, rowStride: rowStride, heads: heads, positions: positions)
    }

    /// Turns the gradient with respect to the rotated vectors, in place, into the gradient with respect to
    /// the vectors before rotation.
    public static func backward(
        _ rotary: RotaryEmbedding, _ gradient: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, heads: Int,
        positions: UnsafePointer<Int32>
    ) {
        let negated = UnsafeMutablePointer<Int32>.allocate(capacity: max(rows, 1))
        defer { negated.deallocate() }
        for row in 0..<rows { negated[row] = -positions[row] }
        rotary.apply(to: gradient, rows: rows, rowStride: rowStride, heads: heads, positions: negated)
    }
}
