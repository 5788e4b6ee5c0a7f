#ifndef RADFM_BROADCAST_LINEAR_H
#define RADFM_BROADCAST_LINEAR_H

#include <stddef.h>

/// y = x * W^T for tens to a few hundred rows of x (decode batches, short prompts), W in PyTorch's
/// [out, in] row-major layout. x is packed once per call k-major, 16 rows per vector, and W is read in
/// place as broadcast operands, so the weights are never re-packed (sgemm re-packs them from memory on
/// every call) and no horizontal sums are needed (a dot-product kernel needs one per output).
///
/// The kernel reads 24 / (G / 16) weight rows side by side; when the row stride is a multiple of 4 KB
/// they all map to the same L1 set and evict each other, which makes it slower than sgemm. Callers pad
/// weight rows (e.g. ldw = in + 16) and check radfm_broadcast_linear_supported(ldw) first.
///
/// Use: packed = radfm_broadcast_scratch(radfm_broadcast_packed_count(rows, in)) on the calling thread,
/// radfm_broadcast_pack(x, ...) into it (on any number of threads, each over its own groups), then
/// radfm_broadcast_linear(packed, ...) on any number of threads, each over its own range of output
/// features.

/// Rows of x per packed group for a product over `rows` rows: 16 (rows <= 16), 32 (<= 32), else 64.
size_t radfm_broadcast_group_rows(size_t rows);

/// Packed groups of rows: ceil(rows / radfm_broadcast_group_rows(rows)).
size_t radfm_broadcast_group_count(size_t rows);

/// Floats the packed x needs: groups * in * group_rows.
size_t radfm_broadcast_packed_count(size_t rows, size_t in);

/// A 64-byte-aligned per-thread scratch buffer of at least `count` floats, grown on demand and kept
/// for the thread's lifetime (callers pack on the calling thread and hand the pointer to workers).
/// Its contents are not kept when it grows. Returns NULL only if allocation fails.
float *radfm_broadcast_scratch(size_t count);

/// Packs groups [firstGroup, endGroup) of x [rows, in] (row stride `ldx`) k-major:
/// packed[(g * in + k) * G + r] = x[g*G + r, k], zero for rows past `rows` (G =
/// radfm_broadcast_group_rows(rows); endGroup is clamped to the group count). `packed` holds
/// radfm_broadcast_packed_count(rows, in) floats; any alignment works, 64 bytes is fastest.
void radfm_broadcast_pack(const float *x, size_t rows, size_t in, size_t ldx, float *packed, size_t firstGroup,
                          size_t endGroup);

/// Whether consecutive weight rows `ldw` floats apart start in different L1 sets, as the kernel needs:
/// the stride is a multiple of 16 whose length in 64-byte lines is not a multiple of 8. Independent of
/// the CPU, so that a model's weight layout is the same on every machine.
int radfm_broadcast_stride_spreads_rows(size_t ldw);

/// Whether radfm_broadcast_linear can run here with this weight row stride: the CPU has AVX-512 and
/// radfm_broadcast_stride_spreads_rows(ldw).
int radfm_broadcast_linear_supported(size_t ldw);

/// y[r, j] (+)= sum_k x[r, k] * w[j * ldw + k] (+ bias[j] unless bias is NULL) for r < rows, j in
/// [begin, end), y row stride `ldy`.
/// `packed` comes from radfm_broadcast_pack of the same rows/in. Only call when supported(ldw): on a
/// CPU without AVX-512 it falls back to a plain scalar loop, correct but far slower than sgemm.
/// Features outside [begin, end) and rows >= rows are never written (threads split [0, out)).
/// Uses a per-thread accumulator buffer of 96 KB per group of rows, kept between calls.
void radfm_broadcast_linear(const float *packed, size_t rows, size_t in, const float *w, size_t ldw,
                            const float *bias, size_t begin, size_t end, int accumulate, float *y, size_t ldy);

#endif
