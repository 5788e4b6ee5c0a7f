#include "decode_attention.h"
#include "cpu_features.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

void radfm_decode_scores_portable(const float *query, const float *keys, size_t keyStride, size_t keyCount,
                                  size_t headBegin, size_t headEnd, size_t headDim, float scale,
                                  float *scores) {
    for (size_t j = 0; j < keyCount; j++) {
        const float *row = keys + j * keyStride;
        for (size_t h = headBegin; h < headEnd; h++) {
            const float *q = query + h * headDim, *k = row + h * headDim;
            float sum = 0;
            for (size_t e = 0; e < headDim; e++) sum += q[e] * k[e];
            scores[(h - headBegin) * keyCount + j] = sum * scale;
        }
    }
}

void radfm_decode_weighted_values_portable(const float *weights, const float *values, size_t valueStride,
                                           size_t keyCount, size_t headBegin, size_t headEnd,
                                           size_t headDim, float *output) {
    memset(output + headBegin * headDim, 0, (headEnd - headBegin) * headDim * sizeof(float));
    for (size_t j = 0; j < keyCount; j++) {
        const float *row = values + j * valueStride;
        for (size_t h = headBegin; h < headEnd; h++) {
            const float p = weights[(h - headBegin) * keyCount + j];
            const float *v = row + h * headDim;
            float *out = output + h * headDim;
            for (size_t e = 0; e < headDim; e++) out[e] += p * v[e];
        }
    }
}

#if defined(__x86_64__)
#define RADFM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

/// Lanes of a final partial vector (`remaining` < 16).
static inline __mmask16 tail_mask(size_t remaining) { return (__mmask16)((1u << remaining) - 1); }

// Two accumulators halve the FMA dependency chain of a 128-wide head; a key row's heads are independent,
// so out-of-order execution overlaps them.
RADFM_AVX512
static void scores_avx512(const float *query, const float *keys, size_t keyStride, size_t keyCount,
                          size_t headBegin, size_t headEnd, size_t headDim, float scale, float *scores) {
    for (size_t j = 0; j < keyCount; j++) {
        const float *row = keys + j * keyStride;
        for (size_t h = headBegin; h < headEnd; h++) {
            const float *q = query + h * headDim, *k = row + h * headDim;
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            size_t e = 0;
            for (; e + 32 <= headDim; e += 32) {
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + e), _mm512_loadu_ps(k + e), a0);
                a1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + e + 16), _mm512_loadu_ps(k + e + 16), a1);
            }
            for (; e + 16 <= headDim; e += 16)
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + e), _mm512_loadu_ps(k + e), a0);
            if (e < headDim) {
                const __mmask16 m = tail_mask(headDim - e);
                a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + e), _mm512_maskz_loadu_ps(m, k + e), a0);
            }
            scores[(h - headBegin) * keyCount + j] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) * scale;
        }
    }
}

RADFM_AVX512
static void weighted_values_avx512(const float *weights, const float *values, size_t valueStride,
                                   size_t keyCount, size_t headBegin, size_t headEnd, size_t headDim,
                                   float *output) {
    memset(output + headBegin * headDim, 0, (headEnd - headBegin) * headDim * sizeof(float));
    for (size_t j = 0; j < keyCount; j++) {
        const float *row = values + j * valueStride;
        for (size_t h = headBegin; h < headEnd; h++) {
            const __m512 p = _mm512_set1_ps(weights[(h - headBegin) * keyCount + j]);
            const float *v = row + h * headDim;
            float *out = output + h * headDim;
            // Full vectors unmasked: a masked store does not forward to the next row's load of the same
            // output vector, which then waits for L1 (this loop ran 5x slower with masks throughout).
            size_t e = 0;
            for (; e + 16 <= headDim; e += 16)
                _mm512_storeu_ps(out + e, _mm512_fmadd_ps(p, _mm512_loadu_ps(v + e), _mm512_loadu_ps(out + e)));
            if (e < headDim) {
                const __mmask16 m = tail_mask(headDim - e);
                _mm512_mask_storeu_ps(out + e, m, _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m, v + e),
                                                                  _mm512_maskz_loadu_ps(m, out + e)));
            }
        }
    }
}

#endif

void radfm_decode_scores(const float *query, const float *keys, size_t keyStride, size_t keyCount,
                         size_t headBegin, size_t headEnd, size_t headDim, float scale, float *scores) {
#if defined(__x86_64__)
    if (radfm_has_avx512()) {
        scores_avx512(query, keys, keyStride, keyCount, headBegin, headEnd, headDim, scale, scores);
        return;
    }
#endif
    radfm_decode_scores_portable(query, keys, keyStride, keyCount, headBegin, headEnd, headDim, scale, scores);
}

void radfm_decode_weighted_values(const float *weights, const float *values, size_t valueStride,
                                  size_t keyCount, size_t headBegin, size_t headEnd, size_t headDim,
                                  float *output) {
#if defined(__x86_64__)
    if (radfm_has_avx512()) {
        weighted_values_avx512(weights, values, valueStride, keyCount, headBegin, headEnd, headDim, output);
        return;
    }
#endif
    radfm_decode_weighted_values_portable(weights, values, valueStride, keyCount, headBegin, headEnd, headDim,
                                          output);
}
