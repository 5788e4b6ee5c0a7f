import CKernels

/// Softmax over the first `length` entries of a row; the rest of the row is set to 0, which is how the
/// causal mask is applied without materialising -inf entries. The loop is C (`elementwise.c`, AVX-512 when
/// the CPU has it): ViT attention rows call exp billions of times per volume.
public enum Softmax {
    public static func row(_ x: UnsafeMutablePointer<Float>, length: Int, rowLength: Int) {
        radfm_softmax_row(x, length, rowLength)
    }
}
