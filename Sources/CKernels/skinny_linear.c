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
// Rows of x handled together against one weight tile, and inner positions per pass. A pass reads
// K_BLOCK floats of the TILE weight rows (16 KB) once from memory and then from L1 for each of the
// GROUP_ROWS / TILE row blocks; without the split, the weight rows of a long inner dimension fall out of
// L1 between row blocks and the kernel waits on L2.
enum { GROUP_ROWS = 16, BLOCKS = GROUP_ROWS / TILE, K_BLOCK = 1024 };

// acc[r * TILE + c] += x rows r times weight rows c over inner positions [from, to). Also prefetches the
// same span of `prefetchCount` rows of the next weight tile into L2, so that DRAM streams while the
// current tile computes instead of stalling the first row block of every tile.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"), always_inline))
static inline void tile_span(const float *const xr[TILE], const float *const wr[TILE], __m512 acc[TILE * TILE],
                             size_t from, size_t to, const float *const prefetch[TILE], int prefetchCount) {
    __m512 a00 = acc[0], a01 = acc[1], a02 = acc[2], a03 = acc[3];
    __m512 a10 = acc[4], a11 = acc[5], a12 = acc[6], a13 = acc[7];
    __m512 a20 = acc[8], a21 = acc[9], a22 = acc[10], a23 = acc[11];
    __m512 a30 = acc[12], a31 = acc[13], a32 = acc[14], a33 = acc[15];
    const float *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3];
    const float *w0 = wr[0], *w1 = wr[1], *w2 = wr[2], *w3 = wr[3];
#define RADFM_TILE_STEP(LOAD)                                                                     \
    {                                                                                             \
        __m512 v0 = LOAD(w0), v1 = LOAD(w1), v2 = LOAD(w2), v3 = LOAD(w3);                        \
        __m512 u = LOAD(x0);                                                                      \
        a00 = _mm512_fmadd_ps(u, v0, a00); a01 = _mm512_fmadd_ps(u, v1, a01);                     \
        a02 = _mm512_fmadd_ps(u, v2, a02); a03 = _mm512_fmadd_ps(u, v3, a03);                     \
        u = LOAD(x1);                                                                             \
        a10 = _mm512_fmadd_ps(u, v0, a10); a11 = _mm512_fmadd_ps(u, v1, a11);                     \
        a12 = _mm512_fmadd_ps(u, v2, a12); a13 = _mm512_fmadd_ps(u, v3, a13);                     \
        u = LOAD(x2);                                                                             \
        a20 = _mm512_fmadd_ps(u, v0, a20); a21 = _mm512_fmadd_ps(u, v1, a21);                     \
        a22 = _mm512_fmadd_ps(u, v2, a22); a23 = _mm512_fmadd_ps(u, v3, a23);                     \
        u = LOAD(x3);                                                                             \
        a30 = _mm512_fmadd_ps(u, v0, a30); a31 = _mm512_fmadd_ps(u, v1, a31);                     \
        a32 = _mm512_fmadd_ps(u, v2, a32); a33 = _mm512_fmadd_ps(u, v3, a33);                     \
    }
#define RADFM_LOAD_FULL(p) _mm512_loadu_ps((p) + i)
#define RADFM_LOAD_TAIL(p) _mm512_maskz_loadu_ps(tailMask, (p) + i)
    size_t i = from;
    for (; i + 16 <= to; i += 16) {
        for (int q = 0; q < prefetchCount; q++) _mm_prefetch((const char *)(prefetch[q] + i), _MM_HINT_T1);
        RADFM_TILE_STEP(RADFM_LOAD_FULL)
    }
    if (i < to) {
        const __mmask16 tailMask = (__mmask16)((1u << (to - i)) - 1);
        RADFM_TILE_STEP(RADFM_LOAD_TAIL)
    }
#undef RADFM_LOAD_TAIL
#undef RADFM_LOAD_FULL
#undef RADFM_TILE_STEP
    acc[0] = a00; acc[1] = a01; acc[2] = a02; acc[3] = a03;
    acc[4] = a10; acc[5] = a11; acc[6] = a12; acc[7] = a13;
    acc[8] = a20; acc[9] = a21; acc[10] = a22; acc[11] = a23;
    acc[12] = a30; acc[13] = a31; acc[14] = a32; acc[15] = a33;
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
static void skinny_avx512(const float *x, size_t rows, size_t in, const float *w, size_t out,
                          size_t begin, size_t end, int accumulate, float *y) {
    for (size_t col = begin; col < end; col += TILE) {
        const size_t cols = min_size(TILE, end - col);
        const float *wr[TILE];
        for (size_t c = 0; c < TILE; c++) wr[c] = w + (col + min_size(c, cols - 1)) * in;
        const size_t nextCols = col + TILE < end ? min_size(TILE, end - col - TILE) : 0;
        for (size_t group = 0; group < rows; group += GROUP_ROWS) {
            const size_t groupRows = min_size(GROUP_ROWS, rows - group);
            const size_t blocks = (groupRows + TILE - 1) / TILE;
            __m512 acc[BLOCKS][TILE * TILE];
            const float *xr[BLOCKS][TILE];
            const float *prefetch[BLOCKS][TILE];
            int prefetchCount[BLOCKS] = {0};
            for (size_t b = 0; b < blocks; b++) {
                for (size_t a = 0; a < TILE * TILE; a++) acc[b][a] = _mm512_setzero_ps();
                const size_t row = group + b * TILE, rowCount = min_size(TILE, rows - row);
                for (size_t r = 0; r < TILE; r++) xr[b][r] = x + (row + min_size(r, rowCount - 1)) * in;
                // Block b fetches the next tile's rows r with r % blocks == b; only the first group does.
                for (size_t r = b; group == 0 && r < nextCols; r += blocks)
                    prefetch[b][prefetchCount[b]++] = w + (col + TILE + r) * in;
            }
            for (size_t k = 0; k < in; k += K_BLOCK) {
                const size_t kEnd = min_size(k + K_BLOCK, in);
                for (size_t b = 0; b < blocks; b++)
                    tile_span(xr[b], wr, acc[b], k, kEnd, prefetch[b], prefetchCount[b]);
            }
            for (size_t b = 0; b < blocks; b++) {
                float sums[TILE][TILE];
                for (size_t r = 0; r < TILE; r++)
                    for (size_t c = 0; c < TILE; c++) sums[r][c] = _mm512_reduce_add_ps(acc[b][r * TILE + c]);
                const size_t row = group + b * TILE;
                store_tile(sums, row, min_size(TILE, rows - row), col, cols, out, accumulate, y);
            }
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
