// The stacked, whole-batch forward pass (policy/batched_forward.hpp, the layout the GPU runs)
// against Policy::logits one sample at a time: ragged samples, some without terms, table rows or
// actions, on the shipped triangle-box policy. Float rounding differs (other summation orders:
// up to 1e-5 relative seen), so scores must agree to 5e-5; a wrong layout is off by far more.
#include <cmath>
#include <cstdio>
#include <random>

#include "check.hpp"
#include "policy/batched_forward.hpp"
#include "random_batch.hpp"

using namespace sailir;


int main() {
  const Policy policy = Policy::builtin("trianglebox");
  const PolicyWeights* w = policy.weights();
  CHECK(w != nullptr && Policy::uniform().weights() == nullptr);
  std::mt19937 rng(17);
  for (int samples : {1, 5, 37}) {
    const PolicyBatch b = random_batch(w->cfg, samples, 120, rng);
    const BatchLayout L(b);
    CHECK(L.samples() == samples && static_cast<std::size_t>(L.actions()) == b.total_actions());
    std::vector<float> ref, got;
    policy.logits(b, ref, 2);
    batched_logits(*w, b, got);
    CHECK(got.size() == ref.size());
    double worst = 0;
    for (std::size_t i = 0; i < ref.size() && i < got.size(); ++i)
      worst = std::max(worst, std::abs(double(got[i]) - ref[i]) / std::max(1.0, std::abs(double(ref[i]))));
    std::fprintf(stderr, "%d samples, %zu actions: largest difference %.2e\n", samples, ref.size(), worst);
    CHECK(worst < 5e-5);
  }
  TEST_MAIN_END();
}
