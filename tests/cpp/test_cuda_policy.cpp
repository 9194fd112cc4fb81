// The GPU's batched policy forward against the CPU runtime: scores within 1e-5 in fp32 and
// within 1e-3 relative in TF32, on ragged batches of random features (samples without terms,
// table rows or actions among them). Exits 77 (skipped) without a usable CUDA device.
#include <cmath>
#include <cstdio>
#include <random>

#include "check.hpp"
#include "policy_forward.cuh"
#include "cuda_skip.hpp"
#include "random_batch.hpp"

using namespace sailir;

int main() {
  if (skip_without_gpu()) return 77;
  const Policy policy = Policy::builtin("trianglebox");
  const PolicyConfig& c = policy.weights()->cfg;
  std::mt19937 rng(3);
  const PolicyBatch b = random_batch(c, 300, 200, rng);
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
