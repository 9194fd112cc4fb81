// Sparse expressions and the incrementally resolved substitution table, against a brute-force
// re-resolution of the whole table after random insertions.
#include <algorithm>
#include <random>

#include "algebra/expression.hpp"
#include "algebra/order.hpp"
#include "check.hpp"

using namespace sailir;

namespace {

Integral key(int i) { return integral_from_powers({i % 5, i / 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1}); }

}  // namespace

int main() {
  nmod_t m{kDefaultPrime};
  Expression a = Expression::single(key(1), 5);
  a.add_scaled(Expression::single(key(2), 7), 3, m);
  CHECK(a.size() == 2 && a.coef(key(2)) == 21 && a.coef(key(1)) == 5);
  a.add_scaled(Expression::single(key(1), 1), m.n - 5, m);  // cancels
  CHECK(a.size() == 1 && !a.contains(key(1)));
  CHECK(a.take(key(2)) == 21 && a.empty());

  // Keys live in a 12-propagator family: keys are compact and distinct.
  CHECK(!(key(3) == key(8)));
  CHECK(IntegralHash{}(key(3)) != IntegralHash{}(key(8)));
  CHECK(format_integral(key(7), 12) == "I[2,1,1,0,0,0,0,0,0,0,0,1]");
  Integral wide = parse_integral("I[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,-3]", 16);
  CHECK(r_of(wide, 16) == 15 && s_of(wide, 16) == 3 && lines_of(sector_of(wide, 16)) == 15);
  CHECK_THROWS(parse_integral("I[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]", 16));

  // Random insertions; the table must equal the values obtained by resolving from scratch.
  std::mt19937_64 rng(7);
  SubstitutionTable table(m);
  std::vector<std::pair<Integral, Expression>> raw;
  for (int step = 0; step < 60; ++step) {
    Integral k = key(step);
    Expression e;
    for (int t = 0; t < 4; ++t) {
      int other = static_cast<int>(rng() % 90);
      if (other == step) continue;
      e.add_scaled(Expression::single(key(other), 1), rng() % m.n, m);
    }
    Expression resolved = e;
    table.resolve(resolved);
    if (resolved.contains(k)) continue;  // would make k depend on itself
    raw.emplace_back(k, e);
    table.insert(k, e);
  }
  for (auto& [k, v] : table.values())
    for (auto& [x, c] : v.terms()) CHECK(!table.has(x));  // fully resolved
  // Brute force: substitute repeatedly until no key remains; must match.
  for (auto& [k, e] : raw) {
    Expression x = e;
    for (int round = 0; round < 100; ++round) {
      bool changed = false;
      for (auto& [k2, e2] : raw) {
        u64 c = x.take(k2);
        if (c) {
          x.add_scaled(e2, c, m);
          changed = true;
        }
      }
      if (!changed) break;
    }
    CHECK(x == table.value(k));
  }
  // The reverse index: keys_using(x) names exactly the keys whose value holds x.
  for (int i = 0; i < 90; ++i) {
    const Integral x = key(i);
    std::vector<Integral> expect;
    for (auto& [k, v] : table.values())
      if (v.contains(x)) expect.push_back(k);
    std::sort(expect.begin(), expect.end(), IntegralLess{});
    CHECK(table.keys_using(x) == expect && table.use_count(x) == expect.size());
  }
  CHECK_THROWS(table.insert(raw.front().first, Expression()));

  // A sector's integrals occupy one range of leading key words, below the next sector's (the
  // job queue finds a sector's highest job there).
  LaportaOrder order(7, {});
  for (int t = 0; t < 2000; ++t) {
    Integral x;
    for (int i = 0; i < 7; ++i) x.a[i] = static_cast<std::int8_t>(static_cast<int>(rng() % 9) - 4);
    const SectorId sec = sector_of(x, 7);
    const std::uint64_t hi = order.key(x).hi;
    CHECK(hi >= LaportaOrder::sector_floor(sec) && hi < LaportaOrder::sector_floor(sec) + LaportaOrder::sector_span);
    const SectorId other = static_cast<SectorId>(rng() % 128);
    if (other != sec)
      CHECK((LaportaOrder::sector_floor(other) < LaportaOrder::sector_floor(sec)) ==
            (LaportaOrder::sector_floor(other) + LaportaOrder::sector_span <= LaportaOrder::sector_floor(sec)));
  }
  TEST_MAIN_END();
}
