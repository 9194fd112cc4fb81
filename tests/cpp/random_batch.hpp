// Ragged policy batches of random features for the policy tests: `samples` samples with up to 60
// terms, 40 table rows and `max_actions` actions, some samples without terms, table rows or actions.
#pragma once

#include <cstdint>
#include <random>

#include "policy/policy.hpp"

inline sailir::PolicyBatch random_batch(const sailir::PolicyConfig& c, int samples, int max_actions, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  sailir::PolicyBatch b;
  auto fill = [&](std::vector<float>& v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) v.push_back(normal(rng));
  };
  for (int s = 0; s < samples; ++s) {
    const int T = s % 7 == 3 ? 0 : static_cast<int>(rng() % 61), K = s % 5 == 2 ? 0 : static_cast<int>(rng() % 41),
              A = s % 11 == 6 ? 0 : static_cast<int>(rng() % (max_actions + 1));
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
