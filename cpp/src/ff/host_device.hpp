// SAILIR_HD marks small functions that CUDA kernels and host code share (compiled for both by
// nvcc, plain inline functions for the host compiler).
#pragma once

#if defined(__CUDACC__)
#define SAILIR_HD __host__ __device__ __forceinline__
#else
#define SAILIR_HD inline
#endif
