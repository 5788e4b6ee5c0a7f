/// `exp` on eight floats at once (Cephes' single-precision method: ln 2 range reduction, degree-6
/// polynomial, exponent bits rebuilt), within one ulp of libm. Softmax over ViT attention rows calls exp
/// billions of times per volume; the scalar libm call would cost more than the matmuls around it.
/// Only plain lane arithmetic, compare-and-select and bit casts are used: the generic SIMD conversions
/// (`rounded`, int from float) and `pointwiseMin`/`pointwiseMax` are not vectorised and were ten times slower.
enum VectorExp {
    /// Inputs below -87.34 give the smallest normal float (1.2e-38) instead of 0, harmless next to the
    /// softmax denominator (at least 1) and to erf's 1 - ... form.
    @inline(__always)
    static func exp(_ input: SIMD8<Float>) -> SIMD8<Float> {
        let x = clamp(input, lower: -87.3365447504, upper: 88.3762626647949)
        // Adding 1.5 * 2^23 rounds x / ln 2 to an integer held in the low mantissa bits.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = x * 1.44269504088896341 + magic
        let n = shifted - magic
        // ln 2 split in two so that x - n ln 2 is exact in float.
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let expR = p * r * r + r + 1
        let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
            &+ 127) &<< 23
        return expR * unsafeBitCast(exponent, to: SIMD8<Float>.self)
    }

    /// Lane-wise clamp through compare-and-select, which compiles to vector instructions; the standard
    /// library's `pointwiseMin`/`pointwiseMax` are out-of-line scalar loops that cost more than `exp` itself.
    @inline(__always)
    static func clamp(_ x: SIMD8<Float>, lower: Float, upper: Float) -> SIMD8<Float> {
        let high = SIMD8<Float>(repeating: upper), low = SIMD8<Float>(repeating: lower)
        let belowUpper = x.replacing(with: high, where: x .> high)
        return belowUpper.replacing(with: low, where: belowUpper .< low)
    }

    /// Lane-wise maximum by compare-and-select (see `clamp`).
    @inline(__always)
    static func maximum(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .> a) }
}
