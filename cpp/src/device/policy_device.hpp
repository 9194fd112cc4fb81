// Where policy scores are computed: the CPU runtime (Policy::logits on threads, one sample per
// task) or a CUDA device (cuda/policy_forward.cuh: the whole batch per layer, fp32 or TF32).
// The batch format is the same ragged PolicyBatch either way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "device/device.hpp"
#include "policy/policy.hpp"

namespace sailir {

enum class ScorePrecision { fp32, tf32 };  // tf32: the GPU's tensor cores (fp32 accumulation)

class PolicyScorer {
 public:
  // Resolves `requested` as ProbeDevice does (DeviceUnavailable for cuda without a usable GPU;
  // auto without one: the CPU, and notice() says why). Ablation policies always score on the CPU.
  PolicyScorer(const Policy& policy, Device requested, int threads, ScorePrecision precision = ScorePrecision::fp32);
  ~PolicyScorer();
  PolicyScorer(const PolicyScorer&) = delete;
  PolicyScorer& operator=(const PolicyScorer&) = delete;

  bool on_gpu() const { return gpu_ != nullptr; }
  const std::string& description() const { return description_; }
  const std::string& notice() const { return notice_; }
  void logits(const PolicyBatch& batch, std::vector<float>& out);

 private:
  struct Gpu;
  const Policy& policy_;
  int threads_;
  std::unique_ptr<Gpu> gpu_;
  std::string description_ = "cpu", notice_;
};

}  // namespace sailir
