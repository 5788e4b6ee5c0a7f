#ifndef RADFM_DECODE_ATTENTION_H
#define RADFM_DECODE_ATTENTION_H

#include <stddef.h>

/// The two products of one decode step's attention (a single query row) for the heads in
/// [headBegin, headEnd). Heads sit side by side in every row: head h of a row is elements
/// [h * headDim, (h + 1) * headDim). Both walk the key/value rows in order, every head of a row at once,
/// so memory is read sequentially: a head-at-a-time loop reads one 512-byte slice per 8 KB row and
/// defeats the hardware prefetcher. Runs the AVX-512 path when the CPU has it, otherwise a portable loop.

/// scores[(h - headBegin) * keyCount + j] = scale * dot(query head h, key row j head h).
void radfm_decode_scores(const float *query, const float *keys, size_t keyStride, size_t keyCount,
                         size_t headBegin, size_t headEnd, size_t headDim, float scale, float *scores);

/// output head h = sum_j weights[(h - headBegin) * keyCount + j] * value row j head h (overwrites).
void radfm_decode_weighted_values(const float *weights, const float *values, size_t valueStride,
                                  size_t keyCount, size_t headBegin, size_t headEnd, size_t headDim,
                                  float *output);

/// The portable loops alone, so that tests on AVX-512 machines also check the path other CPUs take.
void radfm_decode_scores_portable(const float *query, const float *keys, size_t keyStride, size_t keyCount,
                                  size_t headBegin, size_t headEnd, size_t headDim, float scale,
                                  float *scores);
void radfm_decode_weighted_values_portable(const float *weights, const float *values, size_t valueStride,
                                           size_t keyCount, size_t headBegin, size_t headEnd,
                                           size_t headDim, float *output);

#endif
