#ifndef RADFM_ELEMENTWISE_H
#define RADFM_ELEMENTWISE_H

#include <stddef.h>

/// Element-wise and row-wise kernels of the engine. exp is Cephes' single-precision method (ln 2 range
/// reduction, degree-6 polynomial, exponent bits rebuilt), within two ulp of libm; inputs below -87.34
/// give the smallest normal float instead of 0. erf is Abramowitz-Stegun 7.1.26 (absolute error below
/// 1.5e-7), the formula PyTorch's vectorised CPU GELU uses. Each runs the AVX-512 path when the CPU has
/// it, otherwise a portable loop.

/// Exact GELU in place, `x = 0.5 x (1 + erf(x / sqrt 2))` (PyTorch's `nn.GELU()`, not the tanh variant).
void radfm_gelu(float *x, size_t count);

/// LLaMA's gated MLP activation: `gateAndUp` is [rows, 2 * width] with rows `[gate | up]`;
/// writes `gate / (1 + exp(-gate)) * up` into `output` [rows, width].
void radfm_silu_gate(const float *gateAndUp, size_t rows, size_t width, float *output);

/// Softmax in place over the first `length` entries of a row; entries [length, rowLength) are set to 0,
/// which is how the causal mask is applied without materialising -inf scores.
void radfm_softmax_row(float *x, size_t length, size_t rowLength);

/// PyTorch's `nn.LayerNorm` over each row of `input` [rows, dim]: biased variance, affine `weight` and
/// `bias`. The variance is taken in a second pass over the deviations from the mean, which keeps precision
/// on 12288-wide patch rows. `output` may be `input`.
void radfm_layer_norm_rows(const float *input, size_t rows, size_t dim, const float *weight, const float *bias,
                           float epsilon, float *output);

/// LLaMA's RMSNorm over each row of `input` [rows, dim]: `x / sqrt(mean(x^2) + epsilon) * weight`.
/// `output` may be `input`.
void radfm_rms_norm_rows(const float *input, size_t rows, size_t dim, const float *weight, float epsilon,
                         float *output);

/// The portable loops alone, so that tests on AVX-512 machines also check the path other CPUs take.
void radfm_gelu_portable(float *x, size_t count);
void radfm_silu_gate_portable(const float *gateAndUp, size_t rows, size_t width, float *output);
void radfm_softmax_row_portable(float *x, size_t length, size_t rowLength);
void radfm_layer_norm_rows_portable(const float *input, size_t rows, size_t dim, const float *weight,
                                    const float *bias, float epsilon, float *output);
void radfm_rms_norm_rows_portable(const float *input, size_t rows, size_t dim, const float *weight,
                                  float epsilon, float *output);

#endif
