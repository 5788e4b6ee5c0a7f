#include "broadcast_linear.h"
#include "cpu_features.h"

#include <pthread.h>
#include <stdlib.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// One tile is G rows of x (RZ = G / 16 vectors) by NW = 24 / RZ weight rows: 24 accumulators, RZ x
// vectors and the broadcast weight fit in the 32 vector registers. Per inner position the tile issues 24
// FMAs for RZ vector loads and NW scalar broadcasts, few enough loads to keep both FMA ports busy.
// Groups grow with the row count so that each weight element read from L1 feeds as many rows as
// possible; 64 rows is as far as 24 accumulators stretch (4 vectors by 6 weight rows).
enum { ACCUMULATORS = 24, LANES = 16, MAX_GROUP_ROWS = 64 };

// When packed x outgrows L2 (it is re-read once per tile), the inner dimension is cut into K_BLOCK
// spans: one span of every group (64 rows: 256 KB each) stays in L2 while every tile of a chunk passes
// over it, and CHUNK_TILES bounds the accumulator buffer (64 tiles * 1.5 KB per group) so it stays in L2
// as well. Smaller x is not cut: each weight row is then streamed from DRAM in one pass, which measured
// 1.2-1.5x faster at 16 and 32 rows with in = 5632, while blocks of 1024 beat 256, 128 and no blocking
// once packed x passes 1 MB (64 rows at in = 5632, 128 rows).
enum { K_BLOCK = 1024, CHUNK_TILES = 64, UNBLOCKED_X_BYTES = 1 << 20 };

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

size_t radfm_broadcast_group_rows(size_t rows) { return rows <= 16 ? 16 : rows <= 32 ? 32 : MAX_GROUP_ROWS; }

size_t radfm_broadcast_group_count(size_t rows) {
    const size_t groupRows = radfm_broadcast_group_rows(rows);
    return (rows + groupRows - 1) / groupRows;
}

size_t radfm_broadcast_packed_count(size_t rows, size_t in) {
    return radfm_broadcast_group_count(rows) * in * radfm_broadcast_group_rows(rows);
}

// ---------------------------------------------------------------------------------------------------------
// Per-thread buffers. Packed x and the accumulators are needed on every call of every linear layer, so
// they are allocated once per thread and grown on demand; the pthread keys free them when the thread ends.

typedef struct {
    void *data;
    size_t bytes;
} ThreadBuffer;

static pthread_key_t scratchKey, accumulatorKey;
static pthread_once_t keysOnce = PTHREAD_ONCE_INIT;
static _Thread_local ThreadBuffer scratchBuffer, accumulatorBuffer;

static void create_keys(void) {
    pthread_key_create(&scratchKey, free);
    pthread_key_create(&accumulatorKey, free);
}

static void *thread_buffer(ThreadBuffer *buffer, pthread_key_t *key, size_t bytes) {
    if (buffer->bytes >= bytes && buffer->data) return buffer->data;
    pthread_once(&keysOnce, create_keys);
    // aligned_alloc wants a size that is a multiple of the alignment.
    const size_t rounded = bytes ? (bytes + 63) / 64 * 64 : 64;
    void *data = aligned_alloc(64, rounded);
    if (!data) return NULL;
    free(buffer->data);
    buffer->data = data;
    buffer->bytes = rounded;
    pthread_setspecific(*key, data);
    return data;
}

float *radfm_broadcast_scratch(size_t count) {
    return thread_buffer(&scratchBuffer, &scratchKey, count * sizeof(float));
}

// ---------------------------------------------------------------------------------------------------------
// Portable paths, for CPUs without AVX-512. Packing walks each row of x in order (inner loop over k) so
// that x is read sequentially; the product is a scalar reference loop, since callers use sgemm there.

static void pack_portable(const float *x, size_t rows, size_t in, size_t ldx, float *packed, size_t firstGroup,
                          size_t endGroup) {
    const size_t groupRows = radfm_broadcast_group_rows(rows);
    for (size_t g = firstGroup; g < endGroup; g++) {
        float *dst = packed + g * in * groupRows;
        for (size_t r = 0; r < groupRows; r++) {
            const size_t row = g * groupRows + r;
            for (size_t k = 0; k < in; k++) dst[k * groupRows + r] = row < rows ? x[row * ldx + k] : 0;
        }
    }
}

static void linear_portable(const float *packed, size_t rows, size_t in, const float *w, size_t ldw,
                            const float *bias, size_t begin, size_t end, int accumulate, float *y, size_t ldy) {
    const size_t groupRows = radfm_broadcast_group_rows(rows);
    for (size_t row = 0; row < rows; row++) {
        const float *xr = packed + (row / groupRows) * in * groupRows + row % groupRows;
        for (size_t j = begin; j < end; j++) {
            float sum = 0;
            for (size_t k = 0; k < in; k++) sum += xr[k * groupRows] * w[j * ldw + k];
            if (bias) sum += bias[j];
            y[row * ldy + j] = accumulate ? y[row * ldy + j] + sum : sum;
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// AVX-512 paths.

#if defined(__x86_64__)
#define RADFM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

// In place: v[i] becomes column i of the 16x16 block whose rows were v[0..15]. Unpacks interleave
// pairs of rows, then pairs of pairs, which leaves column 4l + j of rows 4b..4b+3 in 128-bit lane l of
// v[4b + j]; two lane shuffles gather the four lanes of each column.
RADFM_AVX512 static inline void transpose16(__m512 v[LANES]) {
    __m512 t[LANES];
    for (int i = 0; i < LANES; i += 2) {
        t[i] = _mm512_unpacklo_ps(v[i], v[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(v[i], v[i + 1]);
    }
    for (int b = 0; b < LANES; b += 4) {
        const __m512d t0 = _mm512_castps_pd(t[b]), t1 = _mm512_castps_pd(t[b + 1]);
        const __m512d t2 = _mm512_castps_pd(t[b + 2]), t3 = _mm512_castps_pd(t[b + 3]);
        v[b] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        v[b + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        v[b + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        v[b + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    for (int j = 0; j < 4; j++) {
        // Lanes 0 and 2 (0x88) or 1 and 3 (0xdd) of the first operand, then the same of the second.
        const __m512 even0 = _mm512_shuffle_f32x4(v[j], v[4 + j], 0x88);
        const __m512 even1 = _mm512_shuffle_f32x4(v[8 + j], v[12 + j], 0x88);
        const __m512 odd0 = _mm512_shuffle_f32x4(v[j], v[4 + j], 0xdd);
        const __m512 odd1 = _mm512_shuffle_f32x4(v[8 + j], v[12 + j], 0xdd);
        t[j] = _mm512_shuffle_f32x4(even0, even1, 0x88);
        t[8 + j] = _mm512_shuffle_f32x4(even0, even1, 0xdd);
        t[4 + j] = _mm512_shuffle_f32x4(odd0, odd1, 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(odd0, odd1, 0xdd);
    }
    for (int i = 0; i < LANES; i++) v[i] = t[i];
}

// Reads 16 rows of x a cache line at a time and writes 16 packed vectors, instead of one scalar store
// per element at a stride of G floats.
RADFM_AVX512 static void pack_avx512(const float *x, size_t rows, size_t in, size_t ldx, float *packed,
                                     size_t firstGroup, size_t endGroup) {
    const size_t groupRows = radfm_broadcast_group_rows(rows);
    for (size_t g = firstGroup; g < endGroup; g++) {
        for (size_t block = 0; block < groupRows; block += LANES) {
            const size_t firstRow = g * groupRows + block;
            for (size_t k = 0; k < in; k += LANES) {
                const size_t width = min_size(LANES, in - k);
                const __mmask16 mask = (__mmask16)((1u << width) - 1);
                __m512 v[LANES];
                for (size_t r = 0; r < LANES; r++)
                    v[r] = firstRow + r < rows ? _mm512_maskz_loadu_ps(mask, x + (firstRow + r) * ldx + k)
                                               : _mm512_setzero_ps();
                transpose16(v);
                float *dst = packed + (g * in + k) * groupRows + block;
                for (size_t i = 0; i < width; i++) _mm512_storeu_ps(dst + i * groupRows, v[i]);
            }
        }
    }
}

// Runs inner positions [from, to) of one tile: slot holds its 24 accumulators, [weight row c][vector j],
// and is read first unless `first`. Called with a constant rz so that every loop unrolls and the
// accumulators live in registers. With rz = 1 clang folds each set1(wr[c][k]) into the FMA as a {1to16}
// memory operand; with more, one vbroadcastss feeds rz FMAs. This C loop runs only the edge tiles: full
// tiles take tile_span16_full, tile_span32_full and tile_span64_full below.
RADFM_AVX512 __attribute__((always_inline)) static inline void
tile_span(const float *x, const float *const wr[ACCUMULATORS], size_t from, size_t to, __m512 *slot,
          int first, const size_t rz) {
    const size_t nw = ACCUMULATORS / rz, groupRows = rz * LANES;
    __m512 acc[ACCUMULATORS];
    for (size_t a = 0; a < ACCUMULATORS; a++) acc[a] = first ? _mm512_setzero_ps() : _mm512_load_ps(slot + a);
    for (size_t k = from; k < to; k++) {
        __m512 xv[4];
        for (size_t j = 0; j < rz; j++) xv[j] = _mm512_loadu_ps(x + k * groupRows + j * LANES);
#pragma clang loop unroll(full)
        for (size_t c = 0; c < nw; c++) {
            const __m512 b = _mm512_set1_ps(wr[c][k]);
            for (size_t j = 0; j < rz; j++) acc[c * rz + j] = _mm512_fmadd_ps(xv[j], b, acc[c * rz + j]);
        }
    }
    for (size_t a = 0; a < ACCUMULATORS; a++) _mm512_store_ps(slot + a, acc[a]);
}

RADFM_AVX512 static void tile_span16(const float *x, const float *const wr[ACCUMULATORS], size_t from,
                                     size_t to, __m512 *slot, int first) {
    tile_span(x, wr, from, to, slot, first, 1);
}

// The 16-row tile over a full set of 24 weight rows, in assembly. Row c is addressed as a base plus a
// stride register times 1, 2, 4 or 8: three bases (rows 0, 9 and 12) and four strides (1, 3, 5 and 7
// rows) reach all 24, so the tile needs eleven general registers. From C the compiler keeps one pointer
// per weight row, which does not fit in the 16 general registers: it reloaded about 13 of them from the
// stack on every step, and those loads competed with the 25 loads an FMA step needs. Steps are unrolled
// by 4 through address displacements. Measured against the C loop at 16 rows, weights from DRAM, two
// threads: 1.2-1.4x (in 2048 by out 5632, and 5632 by 2048); unrolling by 16 or prefetching 256-1024
// bytes ahead in every weight row was slower.
#define RADFM_WFMA(ACC, ADDR) "vfmadd231ps " ADDR "%{1to16%}, %%zmm24, %%zmm" #ACC "\n\t"
#define RADFM_STEP16(D, XD)                                                                                  \
    "vmovups " XD "(%[x]), %%zmm24\n\t"                                                                      \
    RADFM_WFMA(0, D "(%[p0])") RADFM_WFMA(1, D "(%[p0],%[s1])") RADFM_WFMA(2, D "(%[p0],%[s1],2)")          \
    RADFM_WFMA(3, D "(%[p0],%[s3])") RADFM_WFMA(4, D "(%[p0],%[s1],4)") RADFM_WFMA(5, D "(%[p0],%[s5])")   \
    RADFM_WFMA(6, D "(%[p0],%[s3],2)") RADFM_WFMA(7, D "(%[p0],%[s7])") RADFM_WFMA(8, D "(%[p0],%[s1],8)") \
    RADFM_WFMA(9, D "(%[p2])") RADFM_WFMA(10, D "(%[p0],%[s5],2)") RADFM_WFMA(11, D "(%[p2],%[s1],2)")     \
    RADFM_WFMA(12, D "(%[p1])") RADFM_WFMA(13, D "(%[p1],%[s1])") RADFM_WFMA(14, D "(%[p1],%[s1],2)")      \
    RADFM_WFMA(15, D "(%[p1],%[s3])") RADFM_WFMA(16, D "(%[p1],%[s1],4)") RADFM_WFMA(17, D "(%[p1],%[s5])") \
    RADFM_WFMA(18, D "(%[p1],%[s3],2)") RADFM_WFMA(19, D "(%[p1],%[s7])") RADFM_WFMA(20, D "(%[p1],%[s1],8)") \
    RADFM_WFMA(21, D "(%[p2],%[s3],4)") RADFM_WFMA(22, D "(%[p1],%[s5],2)") RADFM_WFMA(23, D "(%[p2],%[s7],2)")
#define RADFM_SLOT(OP, I) OP " " #I "*64(%[slot]), %%zmm" #I "\n\t"
#define RADFM_SLOT_ALL(OP)                                                                                   \
    RADFM_SLOT(OP, 0) RADFM_SLOT(OP, 1) RADFM_SLOT(OP, 2) RADFM_SLOT(OP, 3) RADFM_SLOT(OP, 4)               \
    RADFM_SLOT(OP, 5) RADFM_SLOT(OP, 6) RADFM_SLOT(OP, 7) RADFM_SLOT(OP, 8) RADFM_SLOT(OP, 9)               \
    RADFM_SLOT(OP, 10) RADFM_SLOT(OP, 11) RADFM_SLOT(OP, 12) RADFM_SLOT(OP, 13) RADFM_SLOT(OP, 14)          \
    RADFM_SLOT(OP, 15) RADFM_SLOT(OP, 16) RADFM_SLOT(OP, 17) RADFM_SLOT(OP, 18) RADFM_SLOT(OP, 19)          \
    RADFM_SLOT(OP, 20) RADFM_SLOT(OP, 21) RADFM_SLOT(OP, 22) RADFM_SLOT(OP, 23)
#define RADFM_STORE(I) "vmovaps %%zmm" #I ", " #I "*64(%[slot])\n\t"
#define RADFM_STORE_ALL                                                                                      \
    RADFM_STORE(0) RADFM_STORE(1) RADFM_STORE(2) RADFM_STORE(3) RADFM_STORE(4) RADFM_STORE(5)               \
    RADFM_STORE(6) RADFM_STORE(7) RADFM_STORE(8) RADFM_STORE(9) RADFM_STORE(10) RADFM_STORE(11)             \
    RADFM_STORE(12) RADFM_STORE(13) RADFM_STORE(14) RADFM_STORE(15) RADFM_STORE(16) RADFM_STORE(17)         \
    RADFM_STORE(18) RADFM_STORE(19) RADFM_STORE(20) RADFM_STORE(21) RADFM_STORE(22) RADFM_STORE(23)

// The loop every assembly tile shares: load the 24 accumulators from the slot, run %[q] blocks of four
// steps (QUAD, then ADVANCE4 moves the pointers past them) and %[r] single steps (ONE, ADVANCE1), store the
// accumulators back.
#define RADFM_TILE_LOOP(QUAD, ADVANCE4, ONE, ADVANCE1)                                                       \
    RADFM_SLOT_ALL("vmovaps")                                                                                \
    "test %[q], %[q]\n\t"                                                                                   \
    "jz 2f\n\t"                                                                                             \
    "1:\n\t" QUAD ADVANCE4                                                                                  \
    "dec %[q]\n\t"                                                                                          \
    "jnz 1b\n\t"                                                                                            \
    "2:\n\t"                                                                                                \
    "test %[r], %[r]\n\t"                                                                                   \
    "jz 4f\n\t"                                                                                             \
    "3:\n\t" ONE ADVANCE1                                                                                   \
    "dec %[r]\n\t"                                                                                          \
    "jnz 3b\n\t"                                                                                            \
    "4:\n\t" RADFM_STORE_ALL
#define RADFM_ACCUMULATOR_CLOBBERS                                                                           \
    "zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10", "zmm11", "zmm12", \
        "zmm13", "zmm14", "zmm15", "zmm16", "zmm17", "zmm18", "zmm19", "zmm20", "zmm21", "zmm22", "zmm23"

// Zeroes a tile's accumulator slot before its first span, which then adds to it like any other.
RADFM_AVX512 static inline void clear_slot_if_first(__m512 *slot, int first) {
    if (first)
        for (size_t a = 0; a < ACCUMULATORS; a++) _mm512_store_ps(slot + a, _mm512_setzero_ps());
}

RADFM_AVX512 static void tile_span16_full(const float *x, const float *w, size_t ldw, size_t from, size_t to,
                                          __m512 *slot, int first) {
    clear_slot_if_first(slot, first);
    const size_t s1 = ldw * sizeof(float), s3 = 3 * s1, s5 = 5 * s1, s7 = 7 * s1;
    const char *p0 = (const char *)(w + from), *p1 = p0 + 12 * s1, *p2 = p0 + 9 * s1;
    const char *xp = (const char *)(x + from * LANES);
    size_t quads = (to - from) / 4, rest = (to - from) % 4;
    __asm__ volatile(
        RADFM_TILE_LOOP(
            RADFM_STEP16("0", "0") RADFM_STEP16("4", "64") RADFM_STEP16("8", "128") RADFM_STEP16("12", "192"),
            "add $16, %[p0]\n\t" "add $16, %[p1]\n\t" "add $16, %[p2]\n\t" "add $256, %[x]\n\t",
            RADFM_STEP16("0", "0"),
            "add $4, %[p0]\n\t" "add $4, %[p1]\n\t" "add $4, %[p2]\n\t" "add $64, %[x]\n\t")
        : [x] "+r"(xp), [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [q] "+r"(quads), [r] "+r"(rest)
        : [s1] "r"(s1), [s3] "r"(s3), [s5] "r"(s5), [s7] "r"(s7), [slot] "r"(slot)
        : RADFM_ACCUMULATOR_CLOBBERS, "zmm24", "memory", "cc");
}

RADFM_AVX512 static void tile_span32(const float *x, const float *const wr[ACCUMULATORS], size_t from,
                                     size_t to, __m512 *slot, int first) {
    tile_span(x, wr, from, to, slot, first, 2);
}

RADFM_AVX512 static void tile_span64(const float *x, const float *const wr[ACCUMULATORS], size_t from,
                                     size_t to, __m512 *slot, int first) {
    tile_span(x, wr, from, to, slot, first, 4);
}

// The 32-row tile over a full set of 12 weight rows, in assembly, addressed as in tile_span16_full (rows
// 0-8 and 10 from one base, 9 and 11 from a second) with each broadcast feeding two FMAs. Against the C
// loop, measured as tile_span64_full's, median GF/s: 123 / 112 (in 768, out 3072: the perceiver's
// feed-forward over 32 latents), 92 / 86 (3072 by 768) and 92 / 84 (2048 by 5628).
#define RADFM_BFMA2(B, ADDR, A0, A1)                                                                         \
    "vbroadcastss " ADDR ", %%zmm" #B "\n\t"                                                                \
    "vfmadd231ps %%zmm24, %%zmm" #B ", %%zmm" #A0 "\n\t"                                                    \
    "vfmadd231ps %%zmm25, %%zmm" #B ", %%zmm" #A1 "\n\t"
#define RADFM_STEP32(D, X0, X1)                                                                              \
    "vmovups " X0 "(%[x]), %%zmm24\n\t"                                                                     \
    "vmovups " X1 "(%[x]), %%zmm25\n\t"                                                                     \
    RADFM_BFMA2(28, D "(%[p0])", 0, 1) RADFM_BFMA2(29, D "(%[p0],%[s1])", 2, 3)                              \
    RADFM_BFMA2(30, D "(%[p0],%[s1],2)", 4, 5) RADFM_BFMA2(31, D "(%[p0],%[s3])", 6, 7)                      \
    RADFM_BFMA2(28, D "(%[p0],%[s1],4)", 8, 9) RADFM_BFMA2(29, D "(%[p0],%[s5])", 10, 11)                    \
    RADFM_BFMA2(30, D "(%[p0],%[s3],2)", 12, 13) RADFM_BFMA2(31, D "(%[p0],%[s7])", 14, 15)                  \
    RADFM_BFMA2(28, D "(%[p0],%[s1],8)", 16, 17) RADFM_BFMA2(29, D "(%[p2])", 18, 19)                        \
    RADFM_BFMA2(30, D "(%[p0],%[s5],2)", 20, 21) RADFM_BFMA2(31, D "(%[p2],%[s1],2)", 22, 23)

RADFM_AVX512 static void tile_span32_full(const float *x, const float *w, size_t ldw, size_t from, size_t to,
                                          __m512 *slot, int first) {
    clear_slot_if_first(slot, first);
    const size_t s1 = ldw * sizeof(float), s3 = 3 * s1, s5 = 5 * s1, s7 = 7 * s1;
    const char *p0 = (const char *)(w + from), *p2 = p0 + 9 * s1, *xp = (const char *)(x + from * 32);
    size_t quads = (to - from) / 4, rest = (to - from) % 4;
    __asm__ volatile(
        RADFM_TILE_LOOP(
            RADFM_STEP32("0", "0", "64") RADFM_STEP32("4", "128", "192")
            RADFM_STEP32("8", "256", "320") RADFM_STEP32("12", "384", "448"),
            "add $16, %[p0]\n\t" "add $16, %[p2]\n\t" "add $512, %[x]\n\t",
            RADFM_STEP32("0", "0", "64"),
            "add $4, %[p0]\n\t" "add $4, %[p2]\n\t" "add $128, %[x]\n\t")
        : [x] "+r"(xp), [p0] "+r"(p0), [p2] "+r"(p2), [q] "+r"(quads), [r] "+r"(rest)
        : [s1] "r"(s1), [s3] "r"(s3), [s5] "r"(s5), [s7] "r"(s7), [slot] "r"(slot)
        : RADFM_ACCUMULATOR_CLOBBERS, "zmm24", "zmm25", "zmm28", "zmm29", "zmm30", "zmm31", "memory", "cc");
}

// The 64-row tile over a full set of 6 weight rows, in assembly: per step four x vectors, and each weight
// broadcast once into a register that feeds four FMAs. The rows are one base and three strides (1, 3 and 5
// rows), and steps unroll by 4 through displacements, as in tile_span16_full. Against the C loop above,
// whose one-step body spends four general instructions per 24 FMAs, interleaved in one process, one
// thread, 64 and 128 rows by in 2048 by out 5628, weights from DRAM: median 105-107 against 96 GF/s and
// 124 against 117; prefetching the weight rows 256 or 512 bytes ahead added nothing.
#define RADFM_XLOAD(XD, V) "vmovups " XD "(%[x]), %%zmm" #V "\n\t"
#define RADFM_BFMA4(B, ADDR, A0, A1, A2, A3)                                                                 \
    "vbroadcastss " ADDR ", %%zmm" #B "\n\t"                                                                \
    "vfmadd231ps %%zmm24, %%zmm" #B ", %%zmm" #A0 "\n\t"                                                    \
    "vfmadd231ps %%zmm25, %%zmm" #B ", %%zmm" #A1 "\n\t"                                                    \
    "vfmadd231ps %%zmm26, %%zmm" #B ", %%zmm" #A2 "\n\t"                                                    \
    "vfmadd231ps %%zmm27, %%zmm" #B ", %%zmm" #A3 "\n\t"
#define RADFM_STEP64(D, X0, X1, X2, X3)                                                                      \
    RADFM_XLOAD(X0, 24) RADFM_XLOAD(X1, 25) RADFM_XLOAD(X2, 26) RADFM_XLOAD(X3, 27)                          \
    RADFM_BFMA4(28, D "(%[p0])", 0, 1, 2, 3) RADFM_BFMA4(29, D "(%[p0],%[s1])", 4, 5, 6, 7)                 \
    RADFM_BFMA4(28, D "(%[p0],%[s1],2)", 8, 9, 10, 11) RADFM_BFMA4(29, D "(%[p0],%[s3])", 12, 13, 14, 15)   \
    RADFM_BFMA4(28, D "(%[p0],%[s1],4)", 16, 17, 18, 19) RADFM_BFMA4(29, D "(%[p0],%[s5])", 20, 21, 22, 23)

RADFM_AVX512 static void tile_span64_full(const float *x, const float *w, size_t ldw, size_t from, size_t to,
                                          __m512 *slot, int first) {
    clear_slot_if_first(slot, first);
    const size_t s1 = ldw * sizeof(float), s3 = 3 * s1, s5 = 5 * s1;
    const char *p0 = (const char *)(w + from), *xp = (const char *)(x + from * 64);
    size_t quads = (to - from) / 4, rest = (to - from) % 4;
    __asm__ volatile(
        RADFM_TILE_LOOP(
            RADFM_STEP64("0", "0", "64", "128", "192") RADFM_STEP64("4", "256", "320", "384", "448")
            RADFM_STEP64("8", "512", "576", "640", "704") RADFM_STEP64("12", "768", "832", "896", "960"),
            "add $16, %[p0]\n\t" "add $1024, %[x]\n\t",
            RADFM_STEP64("0", "0", "64", "128", "192"),
            "add $4, %[p0]\n\t" "add $256, %[x]\n\t")
        : [x] "+r"(xp), [p0] "+r"(p0), [q] "+r"(quads), [r] "+r"(rest)
        : [s1] "r"(s1), [s3] "r"(s3), [s5] "r"(s5), [slot] "r"(slot)
        : RADFM_ACCUMULATOR_CLOBBERS, "zmm24", "zmm25", "zmm26", "zmm27", "zmm28", "zmm29", "memory", "cc");
}

// Writes a finished chunk's sums to y. Each accumulator vector holds 16 rows of one feature (slot of
// tile t, group g: vector c * rz + j is feature t * nw + c, rows 16j..16j+15 of the group), so y's rows
// are the slots transposed: 16 features' vectors are gathered, transposed in registers and stored as 16
// row segments of 16 floats. A scalar copy per tile right after its last span (one strided read and
// store per sum) took 6 % of the vision encoder's samples at in = 768, where a tile's work is short.
// The bias (if any) is added here, instead of in another pass over y.
RADFM_AVX512 static void store_chunk(const __m512 *accumulators, size_t groups, size_t rz, size_t nw, size_t rows,
                                     const float *bias, size_t col, size_t cols, int accumulate, float *y,
                                     size_t ldy) {
    for (size_t g = 0; g < groups; g++) {
        for (size_t j = 0; j < rz; j++) {
            const size_t firstRow = (g * rz + j) * LANES;
            if (firstRow >= rows) return;
            const size_t rowCount = min_size(LANES, rows - firstRow);
            for (size_t f = 0; f < cols; f += LANES) {
                const size_t width = min_size(LANES, cols - f);
                const __mmask16 mask = (__mmask16)((1u << width) - 1);
                __m512 v[LANES];
                for (size_t i = 0; i < LANES; i++) {
                    // Past the chunk's last feature any loaded vector will do: its column is not stored.
                    const size_t feature = f + min_size(i, width - 1), t = feature / nw, c = feature % nw;
                    v[i] = _mm512_load_ps((const float *)(accumulators + (t * groups + g) * ACCUMULATORS + c * rz + j));
                }
                transpose16(v);
                const __m512 b = bias ? _mm512_maskz_loadu_ps(mask, bias + col + f) : _mm512_setzero_ps();
                for (size_t r = 0; r < rowCount; r++) {
                    float *dst = y + (firstRow + r) * ldy + col + f;
                    const __m512 product = _mm512_add_ps(v[r], b);
                    const __m512 sum = accumulate ? _mm512_add_ps(product, _mm512_maskz_loadu_ps(mask, dst)) : product;
                    _mm512_mask_storeu_ps(dst, mask, sum);
                }
            }
        }
    }
}

// Loop order: chunks of up to CHUNK_TILES tiles, then spans of the inner dimension, then tiles,
// then row groups. One span of packed x (all groups) is reused from L2 by every tile of the chunk, and the
// weights, which come from DRAM, are read exactly once per call.
RADFM_AVX512 static int linear_avx512(const float *packed, size_t rows, size_t in, const float *w,
                                      size_t ldw, const float *bias, size_t begin, size_t end, int accumulate,
                                      float *y, size_t ldy) {
    const size_t groupRows = radfm_broadcast_group_rows(rows), groups = radfm_broadcast_group_count(rows);
    const size_t rz = groupRows / LANES, nw = ACCUMULATORS / rz;
    __m512 *accumulators = thread_buffer(&accumulatorBuffer, &accumulatorKey,
                                         CHUNK_TILES * groups * ACCUMULATORS * sizeof(__m512));
    if (!accumulators) return 0;
    const size_t packedBytes = radfm_broadcast_packed_count(rows, in) * sizeof(float);
    const size_t kBlock = packedBytes <= UNBLOCKED_X_BYTES && in > K_BLOCK ? in : K_BLOCK;
    void (*span)(const float *, const float *const[ACCUMULATORS], size_t, size_t, __m512 *, int) =
        rz == 1 ? tile_span16 : rz == 2 ? tile_span32 : tile_span64;
    void (*fullSpan)(const float *, const float *, size_t, size_t, size_t, __m512 *, int) =
        rz == 1 ? tile_span16_full : rz == 2 ? tile_span32_full : tile_span64_full;
    for (size_t chunk = begin; chunk < end; chunk += CHUNK_TILES * nw) {
        const size_t chunkEnd = min_size(end, chunk + CHUNK_TILES * nw);
        const size_t tiles = (chunkEnd - chunk + nw - 1) / nw;
        // An empty inner dimension still runs one (empty) span, which zeroes the sums.
        for (size_t from = 0; from == 0 || from < in; from += kBlock) {
            const size_t to = min_size(in, from + kBlock);
            for (size_t t = 0; t < tiles; t++) {
                const size_t col = chunk + t * nw, cols = min_size(nw, chunkEnd - col);
                // Edge tiles repeat their last weight row and drop those sums: one fully unrolled loop.
                const float *wr[ACCUMULATORS];
                if (cols < nw)
                    for (size_t c = 0; c < nw; c++) wr[c] = w + (col + min_size(c, cols - 1)) * ldw;
                for (size_t g = 0; g < groups; g++) {
                    __m512 *slot = accumulators + (t * groups + g) * ACCUMULATORS;
                    const float *xg = packed + g * in * groupRows;
                    if (cols == nw)
                        fullSpan(xg, w + col * ldw, ldw, from, to, slot, from == 0);
                    else
                        span(xg, wr, from, to, slot, from == 0);
                }
            }
        }
        store_chunk(accumulators, groups, rz, nw, rows, bias, chunk, chunkEnd - chunk, accumulate, y, ldy);
    }
    return 1;
}
#endif

void radfm_broadcast_pack(const float *x, size_t rows, size_t in, size_t ldx, float *packed, size_t firstGroup,
                          size_t endGroup) {
    endGroup = min_size(endGroup, radfm_broadcast_group_count(rows));
#if defined(__x86_64__)
    if (radfm_has_avx512()) {
        pack_avx512(x, rows, in, ldx, packed, firstGroup, endGroup);
        return;
    }
#endif
    pack_portable(x, rows, in, ldx, packed, firstGroup, endGroup);
}

int radfm_broadcast_stride_spreads_rows(size_t ldw) { return ldw % LANES == 0 && (ldw / LANES) % 8 != 0; }

int radfm_broadcast_linear_supported(size_t ldw) {
#if defined(__x86_64__)
    return radfm_has_avx512() && radfm_broadcast_stride_spreads_rows(ldw);
#else
    (void)ldw;
    return 0;
#endif
}

void radfm_broadcast_linear(const float *packed, size_t rows, size_t in, const float *w, size_t ldw,
                            const float *bias, size_t begin, size_t end, int accumulate, float *y, size_t ldy) {
    if (rows == 0 || begin >= end) return;
#if defined(__x86_64__)
    // The portable loop also covers a failed accumulator allocation.
    if (radfm_has_avx512() && linear_avx512(packed, rows, in, w, ldw, bias, begin, end, accumulate, y, ldy))
        return;
#endif
    linear_portable(packed, rows, in, w, ldw, bias, begin, end, accumulate, y, ldy);
}
