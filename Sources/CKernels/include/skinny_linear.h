#ifndef RADFM_SKINNY_LINEAR_H
#define RADFM_SKINNY_LINEAR_H

#include <stddef.h>

/// y[r, j] (+)= sum_i x[r, i] * w[j, i] for every row r < rows and output feature j in [begin, end).
/// x is [rows, in] with contiguous rows; w is [out, in] with row stride `ldw` >= in (padded rows keep
/// the rows of a tile out of one L1 set); y has row stride `out`.
/// Meant for few rows (decode steps): each weight row is read from memory once for all rows of x.
/// Runs the AVX-512 path when the CPU has it, otherwise a portable loop.
void radfm_skinny_linear(const float *x, size_t rows, size_t in, const float *w, size_t ldw, size_t out,
                         size_t begin, size_t end, int accumulate, float *y);

/// The portable loop alone, so that tests on AVX-512 machines also check the path other CPUs take.
void radfm_skinny_linear_portable(const float *x, size_t rows, size_t in, const float *w, size_t ldw,
                                  size_t out, size_t begin, size_t end, int accumulate, float *y);

#endif
