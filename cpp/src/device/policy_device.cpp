#include "device/policy_device.hpp"

#ifdef SAILIR_HAVE_CUDA
#include "policy_forward.cuh"
#endif

namespace sailir {

#ifdef SAILIR_HAVE_CUDA
struct PolicyScorer::Gpu {
  cuda::PolicyForward forward;
  Gpu(const PolicyWeights& w, cuda::Precision p) : forward(w, p) {}
};
#else
struct PolicyScorer::Gpu {};
#endif

PolicyScorer::PolicyScorer(const Policy& policy, Device requested, int threads, ScorePrecision precision)
    : policy_(policy), threads_(threads) {
  if (policy.is_ablation()) return;
  const std::string name = choose_cuda(requested, "policy scores are computed", notice_);
  if (name.empty()) return;
#ifdef SAILIR_HAVE_CUDA
  const auto p = precision == ScorePrecision::tf32 ? cuda::Precision::tf32 : cuda::Precision::fp32;
  gpu_ = std::make_unique<Gpu>(*policy.weights(), p);
  description_ = "cuda (" + name + (precision == ScorePrecision::tf32 ? ", tf32)" : ")");
#else
  (void)precision;
#endif
}

PolicyScorer::~PolicyScorer() = default;

void PolicyScorer::logits(const PolicyBatch& batch, std::vector<float>& out) {
#ifdef SAILIR_HAVE_CUDA
  if (gpu_) {
    policy_.validate(batch);
    gpu_->forward.logits(batch, out);
    return;
  }
#endif
  policy_.logits(batch, out, threads_);
}

}  // namespace sailir
