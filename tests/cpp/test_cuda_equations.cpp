// The GPU coefficient kernel must reproduce the CPU equations exactly (triangle-box, all seeds of
// the top sector with r <= 9, s <= 2). Exits 77 (skipped) when no CUDA device is present.
#include <cuda_runtime.h>

#include "batched_equations.cuh"
#include "check.hpp"
#include "family/family_source.hpp"
#include "family/point.hpp"
#include "identities/identity_set.hpp"
#include "laporta/seeds.hpp"

using namespace sailir;

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: skipped\n");
    return 77;
  }
  FamilyDef tb = load_family("trianglebox");
  nmod_t m{kDefaultPrime};
  IdentitySet ids(tb, point_in_field(resolve_point(tb, ""), m), m);
  cuda::AffineTerms terms;
  terms.n = tb.n;
  CHECK(ids.affine_terms(terms.c0, terms.lin));
  terms.terms = static_cast<int>(terms.c0.size());
  auto seeds = sector_seeds(63, tb.n, 9, 2);
  std::vector<std::int8_t> flat;
  for (auto& s : seeds) flat.insert(flat.end(), s.a.begin(), s.a.begin() + tb.n);
  std::vector<std::uint64_t> gpu;
  cuda::equation_coefficients(terms, flat, m.n, gpu);
  // CPU: the nonzero coefficients of every equation, in template/term order.
  std::size_t k = 0;
  for (std::size_t s = 0; s < seeds.size(); ++s) {
    std::vector<std::uint64_t> row(gpu.begin() + s * terms.terms, gpu.begin() + (s + 1) * terms.terms);
    std::vector<std::uint64_t> cpu;
    for (int t = 0; t < ids.size(); ++t) {
      std::vector<Term> eq;
      ids.equation(t, seeds[s], eq);
      for (auto& term : eq) cpu.push_back(term.coef);
    }
    std::vector<std::uint64_t> nonzero;
    for (auto v : row)
      if (v) nonzero.push_back(v);
    CHECK(nonzero == cpu);
    k += cpu.size();
  }
  CHECK(k > 0);
  TEST_MAIN_END();
}
