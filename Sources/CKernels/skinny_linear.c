#include "skinny_linear.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// The kernel computes tiles of TILE rows of x by TILE weight rows. Within a tile each weight vector
// loaded from memory feeds TILE FMAs and each x vector TILE FMAs, so the loop is bound by the weight
// stream rather than by loads; the TILE weight rows of one tile stay in L1/L2 while every row block of
// x passes over them, so DRAM sees each weight once per call whatever the number of rows.
// Edge tiles point their missing rows at the last real one and drop those results, which keeps one
// fully unrolled code path.
enum { TILE = 4 };

static void store_tile(float sums[TILE][TILE], size_t rowBase, size_t rowCount, size_t colBase,
                       size_t colCount, size_t out, int accumulate, float *y) {
    for (size_t r = 0; r < rowCount; r++) {
        float *dst = y + (rowBase + r) * out + colBase;
        for (size_t c = 0; c < colCount; c++) dst[c] = accumulate ? dst[c] + sums[r][c] : sums[r][c];
    }
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

void radfm_skinny_linear_portable(const float *x, size_t rows, size_t in, const float *w, size_t out,
                                  size_t begin, size_t end, int accumulate, float *y) {
    for (size_t col = begin; col < end; col += TILE) {
        size_t cols = min_size(TILE, end - col);
        const float *wr[TILE];
        for (int c = 0; c < TILE; c++) wr[c] = w + (col + min_size((size_t)c, cols - 1)) * in;
        for (size_t row = 0; row < rows; row += TILE) {
            size_t rowCount = min_size(TILE, rows - row);
            const float *xr[TILE];
            for (int r = 0; r < TILE; r++) xr[r] = x + (row + min_size((size_t)r, rowCount - 1)) * in;
            float sums[TILE][TILE] = {{0}};
            for (size_t i = 0; i < in; i++)
                for (int r = 0; r < TILE; r++)
                    for (int c = 0; c < TILE; c++) sums[r][c] += xr[r][i] * wr[c][i];
            store_tile(sums, row, rowCount, col, cols, out, accumulate, y);
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
static void skinny_avx512(const float *x, size_t rows, size_t in, const float *w, size_t out,
                          size_t begin, size_t end, int accumulate, float *y) {
    const size_t fullEnd = in & ~(size_t)15;
    const __mmask16 tailMask = (__mmask16)((1u << (in & 15)) - 1);
    for (size_t col = begin; col < end; col += TILE) {
        size_t cols = min_size(TILE, end - col);
        const float *w0 = w + col * in;
        const float *w1 = w + (col + min_size(1, cols - 1)) * in;
        const float *w2 = w + (col + min_size(2, cols - 1)) * in;
        const float *w3 = w + (col + min_size(3, cols - 1)) * in;
        for (size_t row = 0; row < rows; row += TILE) {
            size_t rowCount = min_size(TILE, rows - row);
            const float *x0 = x + row * in;
            const float *x1 = x + (row + min_size(1, rowCount - 1)) * in;
            const float *x2 = x + (row + min_size(2, rowCount - 1)) * in;
            const float *x3 = x + (row + min_size(3, rowCount - 1)) * in;
            __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;
            __m512 a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            __m512 a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            __m512 a30 = a00, a31 = a00, a32 = a00, a33 = a00;
#define RADFM_TILE_STEP(LOAD)                                                                     \
            {                                                                                     \
                __m512 v0 = LOAD(w0), v1 = LOAD(w1), v2 = LOAD(w2), v3 = LOAD(w3);                \
                __m512 u = LOAD(x0);                                                              \
                a00 = _mm512_fmadd_ps(u, v0, a00); a01 = _mm512_fmadd_ps(u, v1, a01);             \
                a02 = _mm512_fmadd_ps(u, v2, a02); a03 = _mm512_fmadd_ps(u, v3, a03);             \
                u = LOAD(x1);                                                                     \
                a10 = _mm512_fmadd_ps(u, v0, a10); a11 = _mm512_fmadd_ps(u, v1, a11);             \
                a12 = _mm512_fmadd_ps(u, v2, a12); a13 = _mm512_fmadd_ps(u, v3, a13);             \
                u = LOAD(x2);                                                                     \
                a20 = _mm512_fmadd_ps(u, v0, a20); a21 = _mm512_fmadd_ps(u, v1, a21);             \
                a22 = _mm512_fmadd_ps(u, v2, a22); a23 = _mm512_fmadd_ps(u, v3, a23);             \
                u = LOAD(x3);                                                                     \
                a30 = _mm512_fmadd_ps(u, v0, a30); a31 = _mm512_fmadd_ps(u, v1, a31);             \
                a32 = _mm512_fmadd_ps(u, v2, a32); a33 = _mm512_fmadd_ps(u, v3, a33);             \
            }
#define RADFM_LOAD_FULL(p) _mm512_loadu_ps((p) + i)
#define RADFM_LOAD_TAIL(p) _mm512_maskz_loadu_ps(tailMask, (p) + i)
            size_t i = 0;
            for (; i < fullEnd; i += 16) RADFM_TILE_STEP(RADFM_LOAD_FULL)
            if (i < in) RADFM_TILE_STEP(RADFM_LOAD_TAIL)
#undef RADFM_LOAD_TAIL
#undef RADFM_LOAD_FULL
#undef RADFM_TILE_STEP
            float sums[TILE][TILE] = {
                {_mm512_reduce_add_ps(a00), _mm512_reduce_add_ps(a01), _mm512_reduce_add_ps(a02), _mm512_reduce_add_ps(a03)},
                {_mm512_reduce_add_ps(a10), _mm512_reduce_add_ps(a11), _mm512_reduce_add_ps(a12), _mm512_reduce_add_ps(a13)},
                {_mm512_reduce_add_ps(a20), _mm512_reduce_add_ps(a21), _mm512_reduce_add_ps(a22), _mm512_reduce_add_ps(a23)},
                {_mm512_reduce_add_ps(a30), _mm512_reduce_add_ps(a31), _mm512_reduce_add_ps(a32), _mm512_reduce_add_ps(a33)},
            };
            store_tile(sums, row, rowCount, col, cols, out, accumulate, y);
        }
    }
}
#endif

void radfm_skinny_linear(const float *x, size_t rows, size_t in, const float *w, size_t out,
                         size_t begin, size_t end, int accumulate, float *y) {
    if (rows == 0 || begin >= end) return;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("fma")) {
        skinny_avx512(x, rows, in, w, out, begin, end, accumulate, y);
        return;
    }
#endif
    radfm_skinny_linear_portable(x, rows, in, w, out, begin, end, accumulate, y);
}
