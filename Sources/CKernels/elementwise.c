#include "elementwise.h"
#include "cpu_features.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Both paths use the same constants and formulas, so they differ by rounding only: the AVX-512 path fuses
// multiplies and adds (one rounding instead of two) and reduces row sums over 16 lanes instead of 8.

// exp's input range: above it the result overflows; below it 2^n would leave the normal range, and
// clamping there yields the smallest normal instead of 0, harmless next to a softmax denominator of at
// least 1 and to erf's 1 - ... form.
#define EXP_LOWER (-87.3365447504f)
#define EXP_UPPER 88.3762626647949f
#define LOG2E 1.44269504088896341f
// Adding 1.5 * 2^23 rounds x / ln 2 to an integer held in the low mantissa bits.
#define ROUNDING_MAGIC 12582912.0f
// ln 2 split in two so that x - n ln 2 is exact in float.
#define LN2_HIGH 0.693359375f
#define LN2_LOW 2.12194440e-4f
#define EXP_P0 1.9875691500e-4f
#define EXP_P1 1.3981999507e-3f
#define EXP_P2 8.3334519073e-3f
#define EXP_P3 4.1665795894e-2f
#define EXP_P4 1.6666665459e-1f
#define EXP_P5 5.0000001201e-1f

#define ERF_P 0.3275911f
#define ERF_A5 1.061405429f
#define ERF_A4 (-1.453152027f)
#define ERF_A3 1.421413741f
#define ERF_A2 (-0.284496736f)
#define ERF_A1 0.254829592f
#define SQRT_HALF 0.70710678118654752f

// ---------------------------------------------------------------------------------------------------------
// Portable path: branch-free scalar functions that clang's loop vectoriser turns into SSE2 code (bit casts
// through memcpy, clamps as selects); reductions keep eight explicit lanes because the compiler may not
// reorder a float sum or maximum on its own.

enum { LANES = 8 };

static inline uint32_t bits_of(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

static inline float float_of(uint32_t bits) {
    float x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static inline float exp_portable(float input) {
    float x = input > EXP_UPPER ? EXP_UPPER : input;
    x = x < EXP_LOWER ? EXP_LOWER : x;
    const float shifted = x * LOG2E + ROUNDING_MAGIC;
    const float n = shifted - ROUNDING_MAGIC;
    const float r = x - n * LN2_HIGH + n * LN2_LOW;
    float p = EXP_P0;
    p = p * r + EXP_P1;
    p = p * r + EXP_P2;
    p = p * r + EXP_P3;
    p = p * r + EXP_P4;
    p = p * r + EXP_P5;
    const float expR = p * r * r + r + 1.0f;
    const uint32_t exponent = (bits_of(shifted) - bits_of(ROUNDING_MAGIC) + 127u) << 23;
    return expR * float_of(exponent);
}

static inline float erf_portable(float x) {
    const float z = fabsf(x);
    const float t = 1.0f / (1.0f + ERF_P * z);
    float p = ERF_A5;
    p = p * t + ERF_A4;
    p = p * t + ERF_A3;
    p = p * t + ERF_A2;
    p = p * t + ERF_A1;
    return copysignf(1.0f - p * t * exp_portable(-z * z), x);
}

void radfm_gelu_portable(float *x, size_t count) {
    for (size_t i = 0; i < count; i++) x[i] = 0.5f * x[i] * (1.0f + erf_portable(x[i] * SQRT_HALF));
}

void radfm_silu_gate_portable(const float *gateAndUp, size_t rows, size_t width, float *output) {
    for (size_t row = 0; row < rows; row++) {
        const float *gate = gateAndUp + row * 2 * width, *up = gate + width;
        float *out = output + row * width;
        for (size_t i = 0; i < width; i++) out[i] = gate[i] / (1.0f + exp_portable(-gate[i])) * up[i];
    }
}

static float maximum_portable(const float *x, size_t length) {
    float lanes[LANES];
    for (int l = 0; l < LANES; l++) lanes[l] = -INFINITY;
    size_t i = 0;
    for (; i + LANES <= length; i += LANES)
        for (int l = 0; l < LANES; l++) lanes[l] = x[i + l] > lanes[l] ? x[i + l] : lanes[l];
    for (; i < length; i++) lanes[0] = x[i] > lanes[0] ? x[i] : lanes[0];
    float maximum = lanes[0];
    for (int l = 1; l < LANES; l++) maximum = lanes[l] > maximum ? lanes[l] : maximum;
    return maximum;
}

static float sum_portable(const float *x, size_t length) {
    float lanes[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= length; i += LANES)
        for (int l = 0; l < LANES; l++) lanes[l] += x[i + l];
    for (; i < length; i++) lanes[0] += x[i];
    float total = 0;
    for (int l = 0; l < LANES; l++) total += lanes[l];
    return total;
}

void radfm_softmax_row_portable(float *x, size_t length, size_t rowLength) {
    const float maximum = maximum_portable(x, length);
    for (size_t i = 0; i < length; i++) x[i] = exp_portable(x[i] - maximum);
    const float inverse = 1.0f / sum_portable(x, length);
    for (size_t i = 0; i < length; i++) x[i] *= inverse;
    if (length < rowLength) memset(x + length, 0, (rowLength - length) * sizeof(float));
}

/// Sum of (x - shift)^2: LayerNorm's variance numerator with the mean as shift, RMSNorm's with 0.
static float squared_deviations_portable(const float *x, float shift, size_t length) {
    float lanes[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= length; i += LANES)
        for (int l = 0; l < LANES; l++) lanes[l] += (x[i + l] - shift) * (x[i + l] - shift);
    for (; i < length; i++) lanes[0] += (x[i] - shift) * (x[i] - shift);
    float total = 0;
    for (int l = 0; l < LANES; l++) total += lanes[l];
    return total;
}

/// y = (x - shift) * scale * weight (+ bias). Blocks load before they store: with y == x the loop
/// vectoriser's overlap check would fall back to scalar code, the block is straight-line vector code.
static void affine_portable(const float *x, float shift, float scale, const float *weight, const float *bias,
                            float *y, size_t length) {
    size_t i = 0;
    for (; i + LANES <= length; i += LANES) {
        float block[LANES];
        for (int l = 0; l < LANES; l++) block[l] = (x[i + l] - shift) * scale * weight[i + l];
        if (bias)
            for (int l = 0; l < LANES; l++) block[l] += bias[i + l];
        for (int l = 0; l < LANES; l++) y[i + l] = block[l];
    }
    for (; i < length; i++) y[i] = (x[i] - shift) * scale * weight[i] + (bias ? bias[i] : 0.0f);
}

void radfm_layer_norm_rows_portable(const float *input, size_t rows, size_t dim, const float *weight,
                                    const float *bias, float epsilon, float *output) {
    for (size_t row = 0; row < rows; row++) {
        const float *x = input + row * dim;
        const float mean = sum_portable(x, dim) / (float)dim;
        const float inverse = 1.0f / sqrtf(squared_deviations_portable(x, mean, dim) / (float)dim + epsilon);
        affine_portable(x, mean, inverse, weight, bias, output + row * dim, dim);
    }
}

void radfm_rms_norm_rows_portable(const float *input, size_t rows, size_t dim, const float *weight,
                                  float epsilon, float *output) {
    for (size_t row = 0; row < rows; row++) {
        const float *x = input + row * dim;
        const float inverse = 1.0f / sqrtf(squared_deviations_portable(x, 0.0f, dim) / (float)dim + epsilon);
        affine_portable(x, 0.0f, inverse, weight, NULL, output + row * dim, dim);
    }
}

// ---------------------------------------------------------------------------------------------------------
// AVX-512 path: 16 lanes, the last partial vector through masked loads and stores.

#if defined(__x86_64__)
#define RADFM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

/// Lanes of a final partial vector (`remaining` < 16).
static inline __mmask16 tail_mask(size_t remaining) { return (__mmask16)((1u << remaining) - 1); }

RADFM_AVX512
static inline __m512 exp_avx512(__m512 input) {
    // min/max return their second operand when either is NaN: bounds first, so NaN passes through.
    const __m512 x = _mm512_max_ps(_mm512_set1_ps(EXP_LOWER), _mm512_min_ps(_mm512_set1_ps(EXP_UPPER), input));
    const __m512 magic = _mm512_set1_ps(ROUNDING_MAGIC);
    const __m512 shifted = _mm512_fmadd_ps(x, _mm512_set1_ps(LOG2E), magic);
    const __m512 n = _mm512_sub_ps(shifted, magic);
    const __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(LN2_LOW), _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HIGH), x));
    __m512 p = _mm512_set1_ps(EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P5));
    const __m512 expR = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    const __m512i n127 = _mm512_add_epi32(
        _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_castps_si512(magic)), _mm512_set1_epi32(127));
    return _mm512_mul_ps(expR, _mm512_castsi512_ps(_mm512_slli_epi32(n127, 23)));
}

RADFM_AVX512
static inline __m512 gelu_avx512(__m512 v) {
    const __m512 x = _mm512_mul_ps(v, _mm512_set1_ps(SQRT_HALF));
    const __m512 z = _mm512_abs_ps(x);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(ERF_P), z, one));
    __m512 p = _mm512_set1_ps(ERF_A5);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(ERF_A4));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(ERF_A3));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(ERF_A2));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(ERF_A1));
    const __m512 expMinusZSquared = exp_avx512(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), z), z));
    const __m512 magnitude = _mm512_fnmadd_ps(_mm512_mul_ps(p, t), expMinusZSquared, one);
    // erf is odd: give the magnitude x's sign bit.
    const __m512 erf = _mm512_or_ps(magnitude, _mm512_and_ps(x, _mm512_set1_ps(-0.0f)));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(one, erf));
}

RADFM_AVX512
static void gelu_avx512_loop(float *x, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) _mm512_storeu_ps(x + i, gelu_avx512(_mm512_loadu_ps(x + i)));
    if (i < count) {
        const __mmask16 m = tail_mask(count - i);
        _mm512_mask_storeu_ps(x + i, m, gelu_avx512(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

RADFM_AVX512
static inline __m512 silu_gate_avx512(__m512 gate, __m512 up) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 sigmoidDenominator = _mm512_add_ps(one, exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), gate)));
    return _mm512_mul_ps(_mm512_div_ps(gate, sigmoidDenominator), up);
}

RADFM_AVX512
static void silu_gate_avx512_loop(const float *gateAndUp, size_t rows, size_t width, float *output) {
    for (size_t row = 0; row < rows; row++) {
        const float *gate = gateAndUp + row * 2 * width, *up = gate + width;
        float *out = output + row * width;
        size_t i = 0;
        for (; i + 16 <= width; i += 16)
            _mm512_storeu_ps(out + i, silu_gate_avx512(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
        if (i < width) {
            const __mmask16 m = tail_mask(width - i);
            _mm512_mask_storeu_ps(out + i, m, silu_gate_avx512(_mm512_maskz_loadu_ps(m, gate + i),
                                                               _mm512_maskz_loadu_ps(m, up + i)));
        }
    }
}

RADFM_AVX512
static void softmax_row_avx512(float *x, size_t length, size_t rowLength) {
    const __m512 lowest = _mm512_set1_ps(-INFINITY);
    // Two maxima in flight: the loop is bound by the 4-cycle max latency, not by loads.
    __m512 m0 = lowest, m1 = lowest;
    size_t i = 0;
    for (; i + 32 <= length; i += 32) {
        m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i));
        m1 = _mm512_max_ps(m1, _mm512_loadu_ps(x + i + 16));
    }
    for (; i + 16 <= length; i += 16) m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i));
    if (i < length) m1 = _mm512_max_ps(m1, _mm512_mask_loadu_ps(lowest, tail_mask(length - i), x + i));
    const __m512 maximum = _mm512_set1_ps(_mm512_reduce_max_ps(_mm512_max_ps(m0, m1)));

    __m512 sums = _mm512_setzero_ps();
    i = 0;
    for (; i + 16 <= length; i += 16) {
        const __m512 e = exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(x + i), maximum));
        _mm512_storeu_ps(x + i, e);
        sums = _mm512_add_ps(sums, e);
    }
    if (i < length) {
        const __mmask16 m = tail_mask(length - i);
        const __m512 e = exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), maximum));
        _mm512_mask_storeu_ps(x + i, m, e);
        sums = _mm512_mask_add_ps(sums, m, sums, e);
    }
    const __m512 inverse = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sums));

    i = 0;
    for (; i + 16 <= length; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inverse));
    if (i < length) {
        const __mmask16 m = tail_mask(length - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inverse));
    }
    if (length < rowLength) memset(x + length, 0, (rowLength - length) * sizeof(float));
}

// The row reductions keep two sums in flight, so that the 4-cycle add latency does not bound a loop
// that loads two vectors per cycle.
RADFM_AVX512
static float sum_avx512(const float *x, size_t length) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= length; i += 32) {
        s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + i));
        s1 = _mm512_add_ps(s1, _mm512_loadu_ps(x + i + 16));
    }
    for (; i + 16 <= length; i += 16) s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + i));
    if (i < length) s1 = _mm512_add_ps(s1, _mm512_maskz_loadu_ps(tail_mask(length - i), x + i));
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/// Sum of (x - shift)^2: LayerNorm's variance numerator with the mean as shift, RMSNorm's with 0.
RADFM_AVX512
static float squared_deviations_avx512(const float *x, float shift, size_t length) {
    const __m512 m = _mm512_set1_ps(shift);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= length; i += 32) {
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), m);
        const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), m);
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    for (; i + 16 <= length; i += 16) {
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), m);
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    if (i < length) {
        const __mmask16 k = tail_mask(length - i);
        const __m512 d = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, x + i), m);
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/// y = (x - shift) * scale * weight + bias, bias optional.
RADFM_AVX512
static inline __m512 affine_avx512(__m512 x, __m512 shift, __m512 scale, __m512 weight, __m512 bias) {
    return _mm512_fmadd_ps(_mm512_mul_ps(_mm512_sub_ps(x, shift), scale), weight, bias);
}

RADFM_AVX512
static void affine_row_avx512(const float *x, float shift, float scale, const float *weight, const float *bias,
                              float *y, size_t length) {
    const __m512 s = _mm512_set1_ps(shift), k = _mm512_set1_ps(scale);
    size_t i = 0;
    for (; i + 16 <= length; i += 16) {
        const __m512 b = bias ? _mm512_loadu_ps(bias + i) : _mm512_setzero_ps();
        _mm512_storeu_ps(y + i, affine_avx512(_mm512_loadu_ps(x + i), s, k, _mm512_loadu_ps(weight + i), b));
    }
    if (i < length) {
        const __mmask16 m = tail_mask(length - i);
        const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + i) : _mm512_setzero_ps();
        _mm512_mask_storeu_ps(y + i, m, affine_avx512(_mm512_maskz_loadu_ps(m, x + i), s, k,
                                                      _mm512_maskz_loadu_ps(m, weight + i), b));
    }
}

RADFM_AVX512
static void layer_norm_rows_avx512(const float *input, size_t rows, size_t dim, const float *weight,
                                   const float *bias, float epsilon, float *output) {
    for (size_t row = 0; row < rows; row++) {
        const float *x = input + row * dim;
        const float mean = sum_avx512(x, dim) / (float)dim;
        const float inverse = 1.0f / sqrtf(squared_deviations_avx512(x, mean, dim) / (float)dim + epsilon);
        affine_row_avx512(x, mean, inverse, weight, bias, output + row * dim, dim);
    }
}

RADFM_AVX512
static void rms_norm_rows_avx512(const float *input, size_t rows, size_t dim, const float *weight, float epsilon,
                                 float *output) {
    for (size_t row = 0; row < rows; row++) {
        const float *x = input + row * dim;
        const float inverse = 1.0f / sqrtf(squared_deviations_avx512(x, 0.0f, dim) / (float)dim + epsilon);
        affine_row_avx512(x, 0.0f, inverse, weight, NULL, output + row * dim, dim);
    }
}

#endif

// ---------------------------------------------------------------------------------------------------------

void radfm_gelu(float *x, size_t count) {
#if defined(__x86_64__)
    if (radfm_has_avx512()) {
        gelu_avx512_loop(x, count);
        return;
    }
#endif
    radfm_gelu_portable(x, count);
}

void radfm_silu_gate(const float *gateAndUp, size_t rows, size_t width, float *output) {
#if defined(__x86_64__)
    if (radfm_has_avx512()) {
        silu_gate_avx512_loop(gateAndUp, rows, width, output);
        return;
    }
#endif
    radfm_silu_gate_portable(gateAndUp, rows, width, output);
}

void radfm_softmax_row(float *x, size_t length, size_t rowLength) {
#if defined(__x86_64__)
    if (radfm_has_avx512()) {
        softmax_row_avx512(x, length, rowLength);
        return;
    }
#endif
    radfm_softmax_row_portable(x, length, rowLength);
}

void radfm_layer_norm_rows(const float *input, size_t rows, size_t dim, const float *weight, const float *bias,
                           float epsilon, float *output) {
#if defined(__x86_64__)
    if (radfm_has_avx512()) {
        layer_norm_rows_avx512(input, rows, dim, weight, bias, epsilon, output);
        return;
    }
#endif
    radfm_layer_norm_rows_portable(input, rows, dim, weight, bias, epsilon, output);
}

void radfm_rms_norm_rows(const float *input, size_t rows, size_t dim, const float *weight, float epsilon,
                         float *output) {
#if defined(__x86_64__)
    if (radfm_has_avx512()) {
        rms_norm_rows_avx512(input, rows, dim, weight, epsilon, output);
        return;
    }
#endif
    radfm_rms_norm_rows_portable(input, rows, dim, weight, epsilon, output);
}
