// The policy's forward pass over a whole batch at once, for backends that want a few large
// products instead of one small one per sample: every sample's term, table and action rows are
// stacked, each layer is one GEMM over all of them, and the per-sample parts (means, layer norm,
// attention over the sample's own terms, the head) are small functions of one row each, written
// once for the CPU and for CUDA kernels (cuda/policy_forward.cu). Policy::logits, one sample at a
// time, is the reference (tests/cpp/test_batched_forward.cpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "ff/host_device.hpp"
#include "policy/policy.hpp"

namespace sailir {

// Where each sample's rows start in the stacked arrays (S + 1 entries each), and the sample of
// every action row.
struct BatchLayout {
  std::vector<std::int32_t> term_begin, table_begin, action_begin, action_sample;
  explicit BatchLayout(const PolicyBatch& b);
  int samples() const { return static_cast<int>(term_begin.size()) - 1; }
  int terms() const { return term_begin.back(); }
  int table() const { return table_begin.back(); }
  int actions() const { return action_begin.back(); }
};

namespace batched {

// M[s, j] = mean over the sample's rows of H[., j] (0 without rows).
SAILIR_HD void segment_mean(const float* H, int ld, const std::int32_t* begin, int s, int j, float* M, int ldm) {
  const int b = begin[s], e = begin[s + 1];
  float sum = 0.f;
  for (int i = b; i < e; ++i) sum += H[static_cast<long long>(i) * ld + j];
  M[static_cast<long long>(s) * ldm + j] = e > b ? sum / static_cast<float>(e - b) : 0.f;
}

// x[s, j] += add[s, j] where the sample has rows (the model's mean of nothing adds nothing).
SAILIR_HD void add_where_rows(float* x, const float* add, int ld, const std::int32_t* begin, int s, int j) {
  if (begin[s + 1] > begin[s]) x[static_cast<long long>(s) * ld + j] += add[static_cast<long long>(s) * ld + j];
}

// LayerNorm of one state row (biased variance, as torch; in double, as Policy::logits).
SAILIR_HD void layer_norm(const float* x, int w, int wp, const float* g, const float* b, float* out) {
  double mean = 0, var = 0;
  for (int j = 0; j < w; ++j) mean += x[j];
  mean /= w;
  for (int j = 0; j < w; ++j) var += (x[j] - mean) * (x[j] - mean);
  var /= w;
  const double inv_std = 1.0 / sqrt(var + kLayerNormEps);
  for (int j = 0; j < wp; ++j) out[j] = j < w ? static_cast<float>((x[j] - mean) * inv_std * g[j] + b[j]) : 0.f;
}

// The context of action a: softmax over its sample's terms of query . key, times the values
// (KV rows are key | value, each `ap` wide); a sample without terms gets `empty`.
SAILIR_HD void attend(const float* Y, int ldy, const float* KV, int ap, int att, const std::int32_t* term_begin,
                      const std::int32_t* action_sample, const float* empty, int a, float* cx) {
  const float* q = Y + static_cast<long long>(a) * ldy;
  const int s = action_sample[a], b = term_begin[s], e = term_begin[s + 1];
  float* out = cx + static_cast<long long>(a) * ap;
  if (e == b) {
    for (int c = 0; c < ap; ++c) out[c] = empty[c];
    return;
  }
  auto score = [&](int t) {
    const float* k = KV + static_cast<long long>(t) * 2 * ap;
    float d = 0.f;
    for (int c = 0; c < att; ++c) d += q[c] * k[c];
    return d;
  };
  float top = score(b);
  for (int t = b + 1; t < e; ++t) top = fmaxf(top, score(t));
  for (int c = 0; c < ap; ++c) out[c] = 0.f;
  float total = 0.f;
  for (int t = b; t < e; ++t) {
    const float p = expf(score(t) - top);
    total += p;
    const float* v = KV + static_cast<long long>(t) * 2 * ap + ap;
    for (int c = 0; c < att; ++c) out[c] += p * v[c];
  }
  for (int c = 0; c < att; ++c) out[c] /= total;
}

// The score of action a: b + sum_j w[j] max(0, Z[a, j] + Y[a, ap + j]).
SAILIR_HD float head_logit(const float* Z, int ldz, const float* Y, int ldy, int ap, const float* w, float b, int wp,
                           int a) {
  const float* z = Z + static_cast<long long>(a) * ldz;
  const float* y = Y + static_cast<long long>(a) * ldy + ap;
  float sum = b;
  for (int j = 0; j < wp; ++j) sum += w[j] * fmaxf(z[j] + y[j], 0.f);
  return sum;
}

}  // namespace batched

// The whole batch on the CPU through the stacked layout (kernels of policy_kernels.hpp): the
// layout's reference for the GPU, equal to Policy::logits up to float rounding.
void batched_logits(const PolicyWeights& w, const PolicyBatch& batch, std::vector<float>& out);

}  // namespace sailir
