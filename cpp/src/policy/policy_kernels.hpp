// Dense float32 kernels of the policy runtime. Matrices are row-major with explicit leading
// dimensions; output widths are padded to multiples of kLane so that rows fill whole vector
// registers and no kernel needs a remainder loop over columns.
#pragma once

#include <cstdint>
#include <string_view>

namespace sailir::policy_kernels {

inline constexpr int kLane = 16;
inline constexpr int padded(int x) { return (x + kLane - 1) / kLane * kLane; }

// C[i, 0:N] = bias_i + sum_k A[i, k] * B[k, 0:N] for i < M (max(0, .) when relu), with
// bias_i = bias (N floats; zero when null) or, when bias_rows is given, bias + bias_rows[i] * N.
// N must be a multiple of kLane; K may be 0.
void gemm(int M, int N, int K, const float* A, int lda, const float* B, int ldb, const float* bias,
          const std::int32_t* bias_rows, float* C, int ldc, bool relu);

// Row-wise softmax over the first n columns of `rows` rows of S (leading dimension ld), in place
// but not normalised: S[i, j] = exp(S[i, j] - max_i) and inv[i] = 1 / sum_j S[i, j] (scaling the
// attention's output row costs less than scaling every score); n >= 1.
void softmax_rows(float* S, int rows, int n, int ld, float* inv);

// out[i] = b + sum_j w[j] * max(0, Z[i, j] + Y[i, j]) for j < n (n a multiple of kLane).
void head_logits(const float* Z, int ldz, const float* Y, int ldy, const float* w, float b, int rows, int n,
                 float* out);

// The instruction set the kernels use: "avx512", "avx2" or "sse2" (also the plain build for
// other processors), the best this CPU has. use_isa selects another one this CPU supports
// (false otherwise); for tests and benchmarks only, not while kernels run in other threads.
const char* isa();
bool use_isa(std::string_view name);

}  // namespace sailir::policy_kernels
