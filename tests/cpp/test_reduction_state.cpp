// The shared reduction state on the triangle-box family: the target rule, the sector rule of
// valid actions, substitution on apply, and the scramble generator's determinism.
#include <set>

#include "check.hpp"
#include "family/family_source.hpp"
#include "search/reduction_state.hpp"
#include "training/scramble.hpp"

using namespace sailir;

int main() {
  FamilyDef family = load_family("trianglebox");
  FamilyContext ctx(family, resolve_point(family, ""), kDefaultPrime, family.masters);
  const int n = ctx.n();
  const nmod_t m = ctx.modulus();
  CHECK(ctx.masters().size() == 16);

  // A heavy integral of the top sector plus a master: the target is the heavy one.
  const Integral heavy = parse_integral("I[2,1,2,1,2,2,-4]", n);
  const Integral master = ctx.masters().back();
  std::vector<Expression::Entry> terms{{heavy, 3}, {master, 5}};
  ReductionState state(ctx, Expression::from_terms(terms, m));
  CHECK(state.target() && *state.target() == heavy);

  const std::vector<Candidate> cands = state.candidates(heavy);
  CHECK(!cands.empty());
  std::set<std::pair<int, std::vector<int>>> seen;
  for (const Candidate& c : cands) {
    CHECK(c.action.direct);  // an empty table has no indirect actions
    CHECK(c.equation->contains(heavy));
    for (auto& [x, cx] : c.equation->terms()) CHECK((sector_of(x, n) & ~sector_of(heavy, n)) == 0);
    CHECK(seen.emplace(c.action.op, std::vector<int>(c.action.seed.a.begin(), c.action.seed.a.end())).second);
  }
  FeatureRows rows;
  state.features(heavy, cands, rows);
  const FeatureDims dims(n);
  CHECK(rows.target.size() == std::size_t(dims.target));
  CHECK(rows.terms.size() == std::size_t(2 * dims.term));
  CHECK(rows.table.empty());
  CHECK(rows.actions.size() == cands.size() * dims.action && rows.ops.size() == cands.size());

  // Applying solves for the target: it leaves the expression and becomes a table key whose value
  // is the rest of the equation.
  state.apply(heavy, cands.front());
  CHECK(!state.expression().contains(heavy));
  CHECK(state.table().has(heavy) && state.table().size() == 1);
  CHECK(!state.table().value(heavy).contains(heavy));
  // Now some candidates of the next target may go through the table.
  if (auto next = state.target()) {
    for (const Candidate& c : state.candidates(*next)) {
      CHECK(c.equation->contains(*next));
      CHECK(!c.equation->contains(heavy));  // substituted
    }
  }

  // The scramble generator: same (seed, range) -> same data, whatever the thread count.
  ScrambleGenerator gen(ctx, ScrambleOptions{});
  ScrambleStats s1, s2;
  ScrambleBatch a = gen.generate(9, 0, 24, 1, &s1);
  ScrambleBatch b = gen.generate(9, 0, 24, 2, &s2);
  CHECK(s1.attempts == 24 && s1.kept == s2.kept && s1.kept > 0);
  CHECK(a.label == b.label && a.features.actions == b.features.actions && a.expr_coefs == b.expr_coefs);
  ScrambleBatch c = gen.generate(10, 0, 24, 1);
  CHECK(c.expr_coefs != a.expr_coefs);
  TEST_MAIN_END();
}
