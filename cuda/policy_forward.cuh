// The policy's forward pass on a CUDA device for large ragged batches (state, target, actions):
// the stacked layout of policy/batched_forward.hpp, each layer one GEMM over every row of the
// batch, the per-row parts (means, layer norm, masked attention, head) the same functions the
// CPU runs. GEMMs in fp32, or in TF32 on tensor cores with fp32 accumulation. Weights are
// uploaded once. Built only when CMake finds a CUDA toolkit.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "policy/policy.hpp"

namespace sailir::cuda {

enum class Precision { fp32, tf32 };

class PolicyForward {
 public:
  // Throws std::runtime_error (one line, naming the CUDA call) without a usable device.
  PolicyForward(const PolicyWeights& weights, Precision precision = Precision::fp32);
  ~PolicyForward();
  PolicyForward(const PolicyForward&) = delete;
  PolicyForward& operator=(const PolicyForward&) = delete;

  // Raw scores of every action of every sample, in batch order (as Policy::logits).
  void logits(const PolicyBatch& batch, std::vector<float>& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sailir::cuda
