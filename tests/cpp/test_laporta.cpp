// Laporta reduction on built-in families: zero sectors, masters, and the tadpole's closed form.
#include <algorithm>
#include <random>

#include "check.hpp"
#include "family/family_source.hpp"
#include "laporta/checked_reduction.hpp"
#include "laporta/laporta.hpp"

using namespace sailir;

int main() {
  // Tadpole: (d - 2a) I(a) = 2 a msq I(a+1), so I(a+1)/I(a) = (d - 2a) / (2 a msq).
  FamilyDef tad = load_family("tadpole");
  NumericPoint pt = resolve_point(tad, "d=41,msq=7");
  nmod_t m{kDefaultPrime};
  LaportaReducer red(tad, pt, m.n, {});
  CHECK(red.nonzero_sectors() == std::vector<SectorId>{1});
  CHECK(red.masters().size() == 1);
  std::vector<Integral> targets;
  for (int a = 1; a <= 6; ++a) targets.push_back(integral_from_powers({a}));
  targets.push_back(integral_from_powers({-2}));
  auto res = red.reduce(targets, {});
  u64 expect = 1;
  for (int a = 1; a <= 6; ++a) {
    CHECK(res[a - 1].size() == 1 && res[a - 1][0].second == expect);
    expect = nmod_mul(expect, nmod_mul(nmod_set_si(41 - 2 * a, m), nmod_inv(nmod_set_si(2 * a * 7, m), m), m), m);
  }
  CHECK(res[6].empty());  // scaleless

  // Triangle-box: 23 nonzero sectors, 16 masters, exactly the preferred basis when asked.
  FamilyDef tb = load_family("trianglebox");
  NumericPoint tp = resolve_point(tb, "");
  LaportaReducer automatic(tb, tp, kDefaultPrime, {});
  CHECK(automatic.nonzero_sectors().size() == 23);
  CHECK(automatic.masters().size() == 16);
  bool independent = true;
  try {
    automatic.check_basis();
  } catch (const DependentBasisError&) {
    independent = false;
  }
  CHECK(independent);
  LaportaReducer preferred(tb, tp, kDefaultPrime, tb.masters);
  auto ms = preferred.masters();
  CHECK(ms.size() == 16);
  for (auto& x : tb.masters) CHECK(std::find(ms.begin(), ms.end(), x) != ms.end());
  CHECK(preferred.basis_notes().empty());

  // Modulo subsectors: each integral's coefficients on its own sector's masters are those of the
  // full reduction (subsector integrals reduce onto subsector masters only), the rest dropped.
  // Random integrals of random nonzero sectors, dots and numerators included.
  std::mt19937 rng(11);
  const std::vector<SectorId> sectors = preferred.nonzero_sectors();
  std::vector<Integral> probes;
  for (int k = 0; k < 12; ++k) {
    const SectorId s = sectors[rng() % sectors.size()];
    std::vector<int> powers(tb.n, 0);
    for (int i = 0; i < tb.n; ++i) powers[i] = s >> i & 1 ? 1 + static_cast<int>(rng() % 2) : -static_cast<int>(rng() % 2);
    probes.push_back(integral_from_powers(powers));
  }
  const auto full = preferred.reduce(probes, {});
  const auto own = preferred.reduce_modulo_subsectors(probes, {});
  for (std::size_t k = 0; k < probes.size(); ++k) {
    std::vector<std::pair<int, u64>> expected;
    for (auto [j, c] : full[k])
      if (sector_of(ms[j], tb.n) == sector_of(probes[k], tb.n)) expected.push_back({j, c});
    auto got = own[k];
    std::sort(expected.begin(), expected.end());
    std::sort(got.begin(), got.end());
    CHECK(got == expected);
  }
  TEST_MAIN_END();
}
