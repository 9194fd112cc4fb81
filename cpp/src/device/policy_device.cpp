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
  if (requested == Device::cpu || policy.is_ablation()) return;
  std::string why;
  const std::string name = cuda_device_name(why);
  if (name.empty()) {
    if (requested == Device::cuda) throw DeviceUnavailable("--device cuda: " + why + "; use --device cpu or auto");
    notice_ = "no usable CUDA device (" + why + "): policy scores are computed on the CPU";
    return;
  }
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
