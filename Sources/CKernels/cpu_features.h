#ifndef RADFM_CPU_FEATURES_H
#define RADFM_CPU_FEATURES_H

#if defined(__x86_64__)
/// The AVX-512 subsets the kernels' fast paths are compiled for (Skylake-X and later).
static inline int radfm_has_avx512(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("fma");
}
#endif

#endif
