// The one definition of a reduction state, shared by the scramble generator, training and
// inference (DESIGN §5.2): which integral is the target, which actions are valid for it, how an
// action is applied, and the features a policy sees. Nothing else may re-derive any of these.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "algebra/expression.hpp"
#include "algebra/order.hpp"
#include "family/family_file.hpp"
#include "family/point.hpp"
#include "identities/identity_set.hpp"

namespace sailir {

// Bump when anything below changes what a policy sees (features, action set, target rule).
inline constexpr int kFeaturesVersion = 1;

// Everything about a family at one prime and point that states need: compiled identities, the
// Laporta order with the master basis, zero sectors and masters. Immutable, shared by threads.
class FamilyContext {
 public:
  // `preferred` masters as for the Laporta reducer (empty: found automatically).
  FamilyContext(const FamilyDef& family, const NumericPoint& point, u64 prime, std::vector<Integral> preferred);

  int n() const { return n_; }
  nmod_t modulus() const { return mod_; }
  const std::string& family_hash() const { return hash_; }
  const IdentitySet& identities() const { return *ids_; }
  const LaportaOrder& order() const { return order_; }
  const std::vector<Integral>& masters() const { return masters_; }
  bool is_master(const Integral& x) const {
    // Called for every term of every candidate: a sector lookup, then at most a few compares.
    const auto& ms = masters_by_sector_[sector_of(x, n_)];
    return std::find(ms.begin(), ms.end(), x) != ms.end();
  }
  // Nonzero sectors that have masters (ascending); the others reduce to subsectors.
  const std::vector<SectorId>& master_sectors() const { return master_sectors_; }
  const std::vector<Integral>& sector_masters(SectorId s) const;
  // False for integrals with a positive power on an irreducible numerator.
  bool is_valid(const Integral& x) const { return (sector_of(x, n_) & ~line_mask_) == 0; }
  bool is_zero(const Integral& x) const { return zero_[sector_of(x, n_)] != 0; }

  // Template `op` at `seed` with zero-sector terms dropped; false when a term is not a valid
  // integral (the equation then lies outside the family).
  bool equation(int op, const Integral& seed, Expression& out) const;

 private:
  int n_;
  nmod_t mod_;
  std::string hash_;
  std::unique_ptr<IdentitySet> ids_;
  LaportaOrder order_;
  SectorId line_mask_ = 0;
  std::vector<char> zero_;  // by sector id, 2^n entries
  std::vector<Integral> masters_;
  std::vector<std::vector<Integral>> masters_by_sector_;  // by sector id, 2^n entries
  std::vector<SectorId> master_sectors_;
  std::unordered_map<SectorId, std::vector<Integral>> sector_masters_;
};

// The highest non-master of e in the Laporta order; empty when only masters remain. This is the
// target rule of states, and the order in which the scheduler substitutes job values.
std::optional<Integral> highest_non_master(const FamilyContext& ctx, const Expression& e);

// Action (op, seed): template op at seed = target + delta. Direct actions contain the target in
// the raw equation; indirect ones are seeded around a table key whose value contains it.
struct Action {
  int op = 0;
  Integral seed;
  bool direct = true;
};

// Bounds on the seeds of actions, as the seeds of a Laporta system are bounded: with a region in
// which the target is reducible, eliminating the highest integral with any valid action always
// ends below the target, since every integral eliminated stays eliminated and the region holds
// finitely many (see beam_search.hpp).
struct SeedRegion {
  int rmax = 127, smax = 127;
  bool contains(const Integral& seed, int n) const { return r_of(seed, n) <= rmax && s_of(seed, n) <= smax; }
  bool operator==(const SeedRegion&) const = default;
};

// A valid action with its equation after table substitution (contains the target; every
// integral lies in the target's sector or its subsectors).
struct Candidate {
  Action action;
  std::shared_ptr<const Expression> equation;  // shared with the state's resolved equations
  OrderKey top{};  // the highest non-master of the equation other than the target (all-zero: none)
};

// The fixed order of candidates: direct ones first, then by identity and seed.
void sort_candidates(std::vector<Candidate>& cands);

// Feature widths for an n-propagator family (see feature_spec for the meaning of each column).
struct FeatureDims {
  int target, term, table, action;
  explicit FeatureDims(int n) : target(2 * n + 4), term(n + 7), table(n + 4), action(n + 8) {}
};
// A one-line description of every feature column, stored in exported policies and compared on
// load: a policy trained on other features is refused.
std::string feature_spec(int n);

// Features of one (state, target, candidates) sample, appended to flat row-major buffers.
struct FeatureRows {
  std::vector<float> target, terms, table, actions;
  std::vector<std::int32_t> ops;
};

class ReductionState {
 public:
  ReductionState(const FamilyContext& ctx, Expression expression);

  // The equations met so far (around targets and around the keys that use them), resolved through
  // this state's table and kept resolved as keys are added, with an index of which equations
  // hold each integral: a long job offers thousands of candidates per step, nearly all of them met
  // before, so a step reads them off the index instead of resolving each. Shared by copies of a
  // state until one of them applies an action (it then starts an empty one). Not thread-safe: a
  // state and its copies stay on one thread.
  struct ResolvedCache;

  const Expression& expression() const { return expr_; }
  // Starts over from another expression with the same table (e resolved through it).
  void restart(Expression e);
  // Terms held by the resolved equations and by the table's values (what a kept state costs).
  std::size_t resolved_terms() const;
  std::size_t table_terms() const;
  // Forgets the resolved equations, keeping the table: they are gathered again when needed.
  void drop_resolved() const;
  const SubstitutionTable& table() const { return table_; }

  // The highest non-master of the expression in the Laporta order; empty when only masters remain.
  std::optional<Integral> target() const;
  // Every valid action for `target` with its seed in `region`, direct ones first, without
  // duplicates, in a fixed order. Should the thread's memory meter be pressed while the cache
  // gathers them, the state turns to streaming; then with `pressed` given, the call returns
  // nothing and sets *pressed (a caller that ranks streams them itself, keeping few).
  std::vector<Candidate> candidates(const Integral& target, const SeedRegion& region = {},
                                    bool* pressed = nullptr) const;
  // The same candidates one at a time, each resolved afresh and handed to `keep` (in no fixed
  // order), without the resolved equations' cache: what a worker does when its memory budget
  // presses, trading a resolution per candidate and step for the cache's memory.
  void stream_candidates(const Integral& target, const SeedRegion& region,
                         const std::function<void(Candidate&&)>& keep) const;
  // Streaming: the cache is dropped and candidates() streams too (then sorts what it got).
  void set_streaming(bool on) const;  // const: the cache is not the state's value
  bool streaming() const { return streaming_; }
  // Solves the candidate's equation for the target, records it in the table and substitutes it
  // into the expression.
  void apply(const Integral& target, const Candidate& c);
  // The same for an action given by (op, seed); false (and no change) when it is not valid.
  bool apply(const Integral& target, const Action& a);

  void features(const Integral& target, const std::vector<Candidate>& cands, FeatureRows& out) const;

 private:
  bool candidate(const Integral& target, const Action& a, Candidate& out) const;
  std::vector<Candidate> streamed(const Integral& target, const SeedRegion& region) const;

  const FamilyContext* ctx_;
  Expression expr_;
  SubstitutionTable table_;
  mutable std::shared_ptr<ResolvedCache> resolved_;
  mutable bool streaming_ = false;
};

}  // namespace sailir
