// The stacked, whole-batch forward pass (policy/batched_forward.hpp, the layout the GPU runs)
// against Policy::logits one sample at a time: ragged samples, some without terms, table rows or
// actions, on the shipped triangle-box policy. Float rounding differs (other summation orders),
// so scores must agree to 1e-5 relative.
#include <cmath>
#include <cstdio>
#include <random>

#include "check.hpp"
#include "policy/batched_forward.hpp"

using namespace sailir;

namespace {

PolicyBatch random_batch(const PolicyConfig& c, int samples, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> terms(0, 60), table(0, 40), actions(0, 120);
  PolicyBatch b;
  auto fill = [&](std::vector<float>& v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) v.push_back(normal(rng));
  };
  for (int s = 0; s < samples; ++s) {
    const int T = s % 7 == 3 ? 0 : terms(rng), K = s % 5 == 2 ? 0 : table(rng), A = s % 11 == 6 ? 0 : actions(rng);
    fill(b.rows.target, c.target_dim);
    fill(b.rows.terms, std::size_t(T) * c.term_dim);
    fill(b.rows.table, std::size_t(K) * c.table_dim);
    fill(b.rows.actions, std::size_t(A) * c.action_dim);
    for (int a = 0; a < A; ++a) b.rows.ops.push_back(static_cast<std::int32_t>(rng() % c.ops));
    b.terms.push_back(T);
    b.table.push_back(K);
    b.actions.push_back(A);
  }
  return b;
}

}  // namespace

int main() {
  const Policy policy = Policy::builtin("trianglebox");
  const PolicyWeights* w = policy.weights();
  CHECK(w != nullptr && Policy::uniform().weights() == nullptr);
  std::mt19937 rng(17);
  for (int samples : {1, 5, 37}) {
    const PolicyBatch b = random_batch(w->cfg, samples, rng);
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
    CHECK(worst < 1e-5);
  }
  TEST_MAIN_END();
}
