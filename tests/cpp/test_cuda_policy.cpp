// The GPU's batched policy forward against the CPU runtime: scores within 1e-5 in fp32 and
// within 1e-3 relative in TF32, on ragged batches of random features (samples without terms,
// table rows or actions among them). Exits 77 (skipped) without a usable CUDA device.
#include <cmath>
#include <cstdio>
#include <random>

#include "check.hpp"
#include "policy_forward.cuh"
#include "probe_replay.cuh"

using namespace sailir;

int main() {
  const cuda::DeviceInfo info = cuda::device_info();
  if (!info.usable) {
    std::printf("no usable CUDA device (%s): skipped\n", info.why_not.c_str());
    return 77;
  }
  const Policy policy = Policy::builtin("trianglebox");
  const PolicyConfig& c = policy.weights()->cfg;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  PolicyBatch b;
  for (int s = 0; s < 300; ++s) {
    const int T = s % 7 == 3 ? 0 : int(rng() % 60), K = s % 5 == 2 ? 0 : int(rng() % 40), A = s % 11 == 6 ? 0 : int(rng() % 200);
    auto fill = [&](std::vector<float>& v, std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) v.push_back(normal(rng));
    };
    fill(b.rows.target, c.target_dim);
    fill(b.rows.terms, std::size_t(T) * c.term_dim);
    fill(b.rows.table, std::size_t(K) * c.table_dim);
    fill(b.rows.actions, std::size_t(A) * c.action_dim);
    for (int a = 0; a < A; ++a) b.rows.ops.push_back(static_cast<std::int32_t>(rng() % c.ops));
    b.terms.push_back(T);
    b.table.push_back(K);
    b.actions.push_back(A);
  }
  std::vector<float> cpu, gpu;
  policy.logits(b, cpu, 4);
  for (auto [precision, tolerance] : {std::pair{cuda::Precision::fp32, 1e-5}, {cuda::Precision::tf32, 1e-3}}) {
    cuda::PolicyForward forward(*policy.weights(), precision);
    forward.logits(b, gpu);
    CHECK(gpu.size() == cpu.size());
    double worst = 0;
    for (std::size_t i = 0; i < cpu.size() && i < gpu.size(); ++i)
      worst = std::max(worst, std::abs(double(gpu[i]) - cpu[i]) / std::max(1.0, std::abs(double(cpu[i]))));
    std::printf("%s: %zu scores, largest relative difference %.2e (tolerance %.0e)\n",
                precision == cuda::Precision::fp32 ? "fp32" : "tf32", cpu.size(), worst, tolerance);
    CHECK(worst <= tolerance);
  }
  TEST_MAIN_END();
}
