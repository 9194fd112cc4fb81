#include <cuda_runtime.h>
#include <mma.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "device_memory.cuh"
#include "policy/batched_forward.hpp"
#include "policy_forward.cuh"

namespace sailir::cuda {

namespace {

constexpr int kTile = 16;

// C = A B + bias (+ bias row per output row) with optional ReLU; blockIdx.x: row tiles (rows are
// many: every action of a batch), blockIdx.y: column tiles.
__device__ __forceinline__ void store(float v, int i, int j, int N, const float* bias, const std::int32_t* bias_rows,
                                      float* C, int ldc, bool relu) {
  if (bias) v += bias[(bias_rows ? static_cast<long long>(bias_rows[i]) * N : 0) + j];
  C[static_cast<long long>(i) * ldc + j] = relu ? fmaxf(v, 0.f) : v;
}

__global__ void gemm_fp32(int M, int N, int K, const float* A, int lda, const float* B, int ldb, const float* bias,
                          const std::int32_t* bias_rows, float* C, int ldc, bool relu) {
  __shared__ float As[kTile][kTile], Bs[kTile][kTile];
  const int i = blockIdx.x * kTile + threadIdx.y, j = blockIdx.y * kTile + threadIdx.x;
  float acc = 0.f;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    const int ka = k0 + threadIdx.x, kb = k0 + threadIdx.y;
    As[threadIdx.y][threadIdx.x] = i < M && ka < K ? A[static_cast<long long>(i) * lda + ka] : 0.f;
    Bs[threadIdx.y][threadIdx.x] = kb < K && j < N ? B[static_cast<long long>(kb) * ldb + j] : 0.f;
    __syncthreads();
    for (int k = 0; k < kTile; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
    __syncthreads();
  }
  if (i < M && j < N) store(acc, i, j, N, bias, bias_rows, C, ldc, relu);
}

// The same product on tensor cores: inputs rounded to TF32 (fp32's range, a 10-bit mantissa),
// products accumulated in fp32. One warp per 16 x 16 output tile.
__global__ void gemm_tf32(int M, int N, int K, const float* A, int lda, const float* B, int ldb, const float* bias,
                          const std::int32_t* bias_rows, float* C, int ldc, bool relu) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  __shared__ __align__(32) float As[16 * 8], Bs[8 * 16], Cs[16 * 16];
  const int r0 = blockIdx.x * 16, c0 = blockIdx.y * 16, lane = threadIdx.x;
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc;
  wmma::fill_fragment(acc, 0.f);
  for (int k0 = 0; k0 < K; k0 += 8) {
    for (int e = lane; e < 128; e += 32) {
      const int ar = e / 8, ac = e % 8, br = e / 16, bc = e % 16;
      As[e] = r0 + ar < M && k0 + ac < K ? A[static_cast<long long>(r0 + ar) * lda + k0 + ac] : 0.f;
      Bs[e] = k0 + br < K && c0 + bc < N ? B[static_cast<long long>(k0 + br) * ldb + c0 + bc] : 0.f;
    }
    __syncwarp();
    wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb;
    wmma::load_matrix_sync(fa, As, 8);
    wmma::load_matrix_sync(fb, Bs, 16);
    for (int t = 0; t < fa.num_elements; ++t) fa.x[t] = wmma::__float_to_tf32(fa.x[t]);
    for (int t = 0; t < fb.num_elements; ++t) fb.x[t] = wmma::__float_to_tf32(fb.x[t]);
    wmma::mma_sync(acc, fa, fb, acc);
    __syncwarp();
  }
  wmma::store_matrix_sync(Cs, acc, 16, wmma::mem_row_major);
  __syncwarp();
  for (int e = lane; e < 256; e += 32) {
    const int i = r0 + e / 16, j = c0 + e % 16;
    if (i < M && j < N) store(Cs[e], i, j, N, bias, bias_rows, C, ldc, relu);
  }
#endif
}

__global__ void segment_mean_kernel(const float* H, int ld, const std::int32_t* begin, int S, float* M) {
  const int s = blockIdx.x * blockDim.y + threadIdx.y, j = threadIdx.x;
  if (s < S && j < ld) batched::segment_mean(H, ld, begin, s, j, M, ld);
}
__global__ void add_where_rows_kernel(float* x, const float* add, int ld, const std::int32_t* begin, int S) {
  const int s = blockIdx.x * blockDim.y + threadIdx.y, j = threadIdx.x;
  if (s < S && j < ld) batched::add_where_rows(x, add, ld, begin, s, j);
}
__global__ void layer_norm_kernel(const float* x, int S, int w, int wp, const float* g, const float* b, float* out) {
  const int s = blockIdx.x * blockDim.x + threadIdx.x;
  if (s < S) batched::layer_norm(x + static_cast<long long>(s) * wp, w, wp, g, b, out + static_cast<long long>(s) * wp);
}
__global__ void attend_kernel(const float* Y, int ldy, const float* KV, int ap, int att, const std::int32_t* term_begin,
                              const std::int32_t* action_sample, const float* empty, int A, float* cx) {
  const int a = blockIdx.x * blockDim.x + threadIdx.x;
  if (a < A) batched::attend(Y, ldy, KV, ap, att, term_begin, action_sample, empty, a, cx);
}
__global__ void head_kernel(const float* Z, int ldz, const float* Y, int ldy, int ap, const float* w, float b, int wp,
                            int A, float* out) {
  const int a = blockIdx.x * blockDim.x + threadIdx.x;
  if (a < A) out[a] = batched::head_logit(Z, ldz, Y, ldy, ap, w, b, wp, a);
}

unsigned blocks(long long n, int per) { return static_cast<unsigned>((n + per - 1) / per); }

}  // namespace

struct PolicyForward::Impl {
  const PolicyWeights& w;
  Precision precision;
  // Weights, uploaded once.
  DeviceArray<float> target1_w, target1_b, target2_w, target2_b, term1_w, term1_b, term2_w, term2_b, table1_w, table1_b,
      table2_w, table2_b, kv_w, kv_b, ln_g, ln_b, state_w, state_b, action1_w, action1_b, y_w, y_op, ctx_w, out_w,
      ctx_empty;
  // One batch's rows and intermediates, reused.
  DeviceArray<float> target, terms, table, actions, h, x, kv, mean, tmp, st, sp, h1, y, cx, z, out;
  DeviceArray<std::int32_t> ops, term_begin, table_begin, action_sample;

  Impl(const PolicyWeights& weights, Precision p) : w(weights), precision(p) {
    for (auto [dst, src] : {std::pair{&target1_w, &w.target1_w}, {&target1_b, &w.target1_b}, {&target2_w, &w.target2_w},
                            {&target2_b, &w.target2_b}, {&term1_w, &w.term1_w}, {&term1_b, &w.term1_b},
                            {&term2_w, &w.term2_w}, {&term2_b, &w.term2_b}, {&table1_w, &w.table1_w},
                            {&table1_b, &w.table1_b}, {&table2_w, &w.table2_w}, {&table2_b, &w.table2_b},
                            {&kv_w, &w.kv_w}, {&kv_b, &w.kv_b}, {&ln_g, &w.ln_g}, {&ln_b, &w.ln_b},
                            {&state_w, &w.state_w}, {&state_b, &w.state_b}, {&action1_w, &w.action1_w},
                            {&action1_b, &w.action1_b}, {&y_w, &w.y_w}, {&y_op, &w.y_op}, {&ctx_w, &w.ctx_w},
                            {&out_w, &w.out_w}, {&ctx_empty, &w.ctx_empty}})
      dst->upload(*src);
  }

  void gemm(int M, int N, int K, const float* A, int lda, const float* B, int ldb, const float* bias,
            const std::int32_t* bias_rows, float* C, int ldc, bool relu) const {
    if (M == 0) return;
    if (precision == Precision::tf32)
      gemm_tf32<<<dim3(blocks(M, 16), blocks(N, 16)), 32>>>(M, N, K, A, lda, B, ldb, bias, bias_rows, C, ldc, relu);
    else
      gemm_fp32<<<dim3(blocks(M, kTile), blocks(N, kTile)), dim3(kTile, kTile)>>>(M, N, K, A, lda, B, ldb, bias,
                                                                                 bias_rows, C, ldc, relu);
    check(cudaGetLastError(), "gemm launch");
  }
  // x += W2 mean(H over each sample's rows) + b2 where a sample has rows.
  void add_means(const float* H, const std::int32_t* begin, int S, const DeviceArray<float>& w2, const DeviceArray<float>& b2) {
    const int wp = w.wp;
    const dim3 threads(wp, std::max(1, 256 / wp));
    segment_mean_kernel<<<blocks(S, threads.y), threads>>>(H, wp, begin, S, mean.reserve(std::size_t(S) * wp));
    gemm(S, wp, w.cfg.width, mean.ptr, wp, w2.ptr, wp, b2.ptr, nullptr, tmp.reserve(std::size_t(S) * wp), wp, false);
    add_where_rows_kernel<<<blocks(S, threads.y), threads>>>(x.ptr, tmp.ptr, wp, begin, S);
  }
  void run(const PolicyBatch& batch, std::vector<float>& result);
};

void PolicyForward::Impl::run(const PolicyBatch& batch, std::vector<float>& result) {
  const BatchLayout L(batch);
  const int S = L.samples(), T = L.terms(), K = L.table(), A = L.actions(), wp = w.wp, ap = w.ap, ny = w.ny;
  const PolicyConfig& c = w.cfg;
  const FeatureRows& r = batch.rows;
  h.reserve(std::size_t(std::max({S, T, K, 1})) * wp);
  x.reserve(std::size_t(S) * wp);
  gemm(S, wp, c.target_dim, target.upload(r.target), c.target_dim, target1_w.ptr, wp, target1_b.ptr, nullptr, h.ptr, wp,
       true);
  gemm(S, wp, c.width, h.ptr, wp, target2_w.ptr, wp, target2_b.ptr, nullptr, x.ptr, wp, false);
  term_begin.upload(L.term_begin);
  table_begin.upload(L.table_begin);
  kv.reserve(std::size_t(std::max(T, 1)) * 2 * ap);
  if (T > 0) {
    gemm(T, wp, c.term_dim, terms.upload(r.terms), c.term_dim, term1_w.ptr, wp, term1_b.ptr, nullptr, h.ptr, wp, true);
    add_means(h.ptr, term_begin.ptr, S, term2_w, term2_b);
    gemm(T, 2 * ap, c.width, h.ptr, wp, kv_w.ptr, 2 * ap, kv_b.ptr, nullptr, kv.ptr, 2 * ap, false);
  }
  if (K > 0) {
    gemm(K, wp, c.table_dim, table.upload(r.table), c.table_dim, table1_w.ptr, wp, table1_b.ptr, nullptr, h.ptr, wp,
         true);
    add_means(h.ptr, table_begin.ptr, S, table2_w, table2_b);
  }
  layer_norm_kernel<<<blocks(S, 128), 128>>>(x.ptr, S, c.width, wp, ln_g.ptr, ln_b.ptr, st.reserve(std::size_t(S) * wp));
  gemm(S, wp, c.width, st.ptr, wp, state_w.ptr, wp, state_b.ptr, nullptr, sp.reserve(std::size_t(S) * wp), wp, false);
  result.resize(A);
  if (A > 0) {
    gemm(A, wp, c.action_dim, actions.upload(r.actions), c.action_dim, action1_w.ptr, wp, action1_b.ptr, nullptr,
         h1.reserve(std::size_t(A) * wp), wp, true);
    gemm(A, ny, c.width, h1.ptr, wp, y_w.ptr, ny, y_op.ptr, ops.upload(r.ops), y.reserve(std::size_t(A) * ny), ny, false);
    attend_kernel<<<blocks(A, 128), 128>>>(y.ptr, ny, kv.ptr, ap, c.attention, term_begin.ptr,
                                           action_sample.upload(L.action_sample), ctx_empty.ptr, A,
                                           cx.reserve(std::size_t(A) * ap));
    gemm(A, wp, c.attention, cx.ptr, ap, ctx_w.ptr, wp, sp.ptr, action_sample.ptr, z.reserve(std::size_t(A) * wp), wp,
         false);
    head_kernel<<<blocks(A, 128), 128>>>(z.ptr, wp, y.ptr, ny, ap, out_w.ptr, w.out_b, wp, A, out.reserve(A));
    check(cudaGetLastError(), "launch");
    check(cudaMemcpy(result.data(), out.ptr, std::size_t(A) * sizeof(float), cudaMemcpyDeviceToHost), "copy out");
  }
  check(cudaDeviceSynchronize(), "forward");
}

PolicyForward::PolicyForward(const PolicyWeights& weights, Precision precision) {
  int count = 0;
  check(cudaGetDeviceCount(&count), "device count");
  if (count == 0) throw std::runtime_error("CUDA: no device");
  impl_ = std::make_unique<Impl>(weights, precision);
}
PolicyForward::~PolicyForward() = default;

void PolicyForward::logits(const PolicyBatch& batch, std::vector<float>& out) { impl_->run(batch, out); }

}  // namespace sailir::cuda
