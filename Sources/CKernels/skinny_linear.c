#include "skinny_linear.h"
#include "cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Both paths compute tiles of a few rows of x by a few weight rows. Within a tile each weight vector
// loaded from memory feeds one FMA per x row and each x vector one per weight row, so the loop is bound
// by arithmetic rather than by loads; the weight rows of one tile stay in L1/L2 while every row block of
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

void radfm_skinny_linear_portable(const float *x, size_t rows, size_t in, const float *w, size_t ldw,
                                  size_t out, size_t begin, size_t end, int accumulate, float *y) {
    for (size_t col = begin; col < end; col += TILE) {
        size_t cols = min_size(TILE, end - col);
        const float *wr[TILE];
        for (int c = 0; c < TILE; c++) wr[c] = w + (col + min_size((size_t)c, cols - 1)) * ldw;
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
// The AVX-512 tile is XR rows of x by WR weight rows: 24 accumulators, six weight vectors and one x
// vector fill 31 of the 32 vector registers, and each step issues 24 FMAs for 10 loads (a 4x4 tile
// issues 16 for 8), which measured 25% faster with the operands in L1.
// GROUP_ROWS rows of x pass over one weight tile K_BLOCK inner positions at a time: the span of the
// WR weight rows (24 KB) is read once from memory and then from L1 for each of the GROUP_ROWS / XR row
// blocks; without the split, the weight rows of a long inner dimension fall out of L1 between blocks.
enum { XR = 4, WR = 6, GROUP_ROWS = 16, BLOCKS = GROUP_ROWS / XR, K_BLOCK = 1024 };

// acc[r * WR + c] += x rows r times weight rows c over inner positions [from, to). Also prefetches the
// same span of `prefetchCount` rows of the next weight tile into L2, so that DRAM streams while the
// current tile computes instead of stalling the first row block of every tile.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"), always_inline))
static inline void tile_span(const float *const xr[XR], const float *const wr[WR], __m512 acc[XR * WR],
                             size_t from, size_t to, const float *const prefetch[WR], int prefetchCount) {
    __m512 a00 = acc[0], a01 = acc[1], a02 = acc[2], a03 = acc[3], a04 = acc[4], a05 = acc[5];
    __m512 a10 = acc[6], a11 = acc[7], a12 = acc[8], a13 = acc[9], a14 = acc[10], a15 = acc[11];
    __m512 a20 = acc[12], a21 = acc[13], a22 = acc[14], a23 = acc[15], a24 = acc[16], a25 = acc[17];
    __m512 a30 = acc[18], a31 = acc[19], a32 = acc[20], a33 = acc[21], a34 = acc[22], a35 = acc[23];
    const float *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3];
    const float *w0 = wr[0], *w1 = wr[1], *w2 = wr[2], *w3 = wr[3], *w4 = wr[4], *w5 = wr[5];
#define RADFM_ROW(u, a0, a1, a2, a3, a4, a5)                                                        \
    a0 = _mm512_fmadd_ps(u, v0, a0); a1 = _mm512_fmadd_ps(u, v1, a1); a2 = _mm512_fmadd_ps(u, v2, a2); \
    a3 = _mm512_fmadd_ps(u, v3, a3); a4 = _mm512_fmadd_ps(u, v4, a4); a5 = _mm512_fmadd_ps(u, v5, a5);
#define RADFM_TILE_STEP(LOAD)                                                                     \
    {                                                                                             \
        const __m512 v0 = LOAD(w0), v1 = LOAD(w1), v2 = LOAD(w2), v3 = LOAD(w3), v4 = LOAD(w4),   \
                     v5 = LOAD(w5);                                                               \
        __m512 u = LOAD(x0);                                                                      \
        RADFM_ROW(u, a00, a01, a02, a03, a04, a05)                                                \
        u = LOAD(x1);                                                                             \
        RADFM_ROW(u, a10, a11, a12, a13, a14, a15)                                                \
        u = LOAD(x2);                                                                             \
        RADFM_ROW(u, a20, a21, a22, a23, a24, a25)                                                \
        u = LOAD(x3);                                                                             \
        RADFM_ROW(u, a30, a31, a32, a33, a34, a35)                                                \
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
#undef RADFM_ROW
    acc[0] = a00; acc[1] = a01; acc[2] = a02; acc[3] = a03; acc[4] = a04; acc[5] = a05;
    acc[6] = a10; acc[7] = a11; acc[8] = a12; acc[9] = a13; acc[10] = a14; acc[11] = a15;
    acc[12] = a20; acc[13] = a21; acc[14] = a22; acc[15] = a23; acc[16] = a24; acc[17] = a25;
    acc[18] = a30; acc[19] = a31; acc[20] = a32; acc[21] = a33; acc[22] = a34; acc[23] = a35;
}

// One row of x (a decode step at batch 1) has nothing to reuse across x rows, so it gets its own loop: one
// x vector feeds SINGLE_WR weight rows, a third fewer loads per FMA than the tile with its three copies of
// the row, which measured 1.10-1.17x with two threads streaming weights from DRAM. Lanes accumulate in the
// same order as in the tile, so a row's sums do not depend on the batch around it.
enum { SINGLE_WR = 8 };

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
static void single_row_avx512(const float *x, size_t in, const float *w, size_t ldw, size_t begin, size_t end,
                              int accumulate, float *y) {
    for (size_t col = begin; col < end; col += SINGLE_WR) {
        const size_t cols = min_size(SINGLE_WR, end - col);
        const float *wr[SINGLE_WR];
        for (size_t c = 0; c < SINGLE_WR; c++) wr[c] = w + (col + min_size(c, cols - 1)) * ldw;
        __m512 acc[SINGLE_WR];
        for (size_t c = 0; c < SINGLE_WR; c++) acc[c] = _mm512_setzero_ps();
        size_t i = 0;
        for (; i + 16 <= in; i += 16) {
            const __m512 u = _mm512_loadu_ps(x + i);
#pragma clang loop unroll(full)
            for (size_t c = 0; c < SINGLE_WR; c++) acc[c] = _mm512_fmadd_ps(u, _mm512_loadu_ps(wr[c] + i), acc[c]);
        }
        if (i < in) {
            const __mmask16 tailMask = (__mmask16)((1u << (in - i)) - 1);
            const __m512 u = _mm512_maskz_loadu_ps(tailMask, x + i);
#pragma clang loop unroll(full)
            for (size_t c = 0; c < SINGLE_WR; c++)
                acc[c] = _mm512_fmadd_ps(u, _mm512_maskz_loadu_ps(tailMask, wr[c] + i), acc[c]);
        }
        for (size_t c = 0; c < cols; c++) {
            const float sum = _mm512_reduce_add_ps(acc[c]);
            y[col + c] = accumulate ? y[col + c] + sum : sum;
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
static void skinny_avx512(const float *x, size_t rows, size_t in, const float *w, size_t ldw, size_t out,
                          size_t begin, size_t end, int accumulate, float *y) {
    for (size_t col = begin; col < end; col += WR) {
        const size_t cols = min_size(WR, end - col);
        const float *wr[WR];
        for (size_t c = 0; c < WR; c++) wr[c] = w + (col + min_size(c, cols - 1)) * ldw;
        const size_t nextCols = col + WR < end ? min_size(WR, end - col - WR) : 0;
        for (size_t group = 0; group < rows; group += GROUP_ROWS) {
            const size_t groupRows = min_size(GROUP_ROWS, rows - group);
            const size_t blocks = (groupRows + XR - 1) / XR;
            __m512 acc[BLOCKS][XR * WR];
            const float *xr[BLOCKS][XR];
            const float *prefetch[BLOCKS][WR];
            int prefetchCount[BLOCKS] = {0};
            for (size_t b = 0; b < blocks; b++) {
                for (size_t a = 0; a < XR * WR; a++) acc[b][a] = _mm512_setzero_ps();
                const size_t row = group + b * XR, rowCount = min_size(XR, rows - row);
                for (size_t r = 0; r < XR; r++) xr[b][r] = x + (row + min_size(r, rowCount - 1)) * in;
                // Block b fetches the next tile's rows r with r % blocks == b; only the first group does.
                for (size_t r = b; group == 0 && r < nextCols; r += blocks)
                    prefetch[b][prefetchCount[b]++] = w + (col + WR + r) * ldw;
            }
            for (size_t k = 0; k < in; k += K_BLOCK) {
                const size_t kEnd = min_size(k + K_BLOCK, in);
                for (size_t b = 0; b < blocks; b++)
                    tile_span(xr[b], wr, acc[b], k, kEnd, prefetch[b], prefetchCount[b]);
            }
            for (size_t b = 0; b < blocks; b++) {
                const size_t row = group + b * XR, rowCount = min_size(XR, rows - row);
                for (size_t r = 0; r < rowCount; r++) {
                    float *dst = y + (row + r) * out + col;
                    for (size_t c = 0; c < cols; c++) {
                        const float sum = _mm512_reduce_add_ps(acc[b][r * WR + c]);
                        dst[c] = accumulate ? dst[c] + sum : sum;
                    }
                }
            }
        }
    }
}
#endif

void radfm_skinny_linear(const float *x, size_t rows, size_t in, const float *w, size_t ldw, size_t out,
                         size_t begin, size_t end, int accumulate, float *y) {
    if (rows == 0 || begin >= end) return;
#if defined(__x86_64__)
    if (radfm_has_avx512()) {
        if (rows == 1) single_row_avx512(x, in, w, ldw, begin, end, accumulate, y);
        else skinny_avx512(x, rows, in, w, ldw, out, begin, end, accumulate, y);
        return;
    }
#endif
    radfm_skinny_linear_portable(x, rows, in, w, ldw, out, begin, end, accumulate, y);
}
