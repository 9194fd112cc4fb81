// Sparse linear combinations of integrals with coefficients modulo p, and the substitution table
// of the reduction state: integral -> expression, kept fully resolved (no value ever contains a
// key), updated incrementally through a reverse index instead of rebuilding on every insert.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "algebra/integral.hpp"
#include "ff/nmod.hpp"
#include "memory/meter.hpp"

namespace sailir {

// Lexicographic order of the signed powers. Merges and lookups compare terms all the time, so
// the 16 bytes are compared as two big-endian words with the sign bits flipped (the same order
// as comparing byte by byte).
struct IntegralLess {
  static std::uint64_t word(const Integral& x, int i) {
    std::uint64_t w;
    std::memcpy(&w, x.a.data() + 8 * i, sizeof w);
    w ^= 0x8080808080808080ULL;  // signed bytes -> unsigned with the same order
    if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
    return w;
  }
  bool operator()(const Integral& x, const Integral& y) const {
    const std::uint64_t x0 = word(x, 0), y0 = word(y, 0);
    return x0 != y0 ? x0 < y0 : word(x, 1) < word(y, 1);
  }
};

// Terms sorted by key bytes, coefficients nonzero. Their storage is charged to the thread's
// memory meter (memory/meter.hpp): expressions are what a worker's budget bounds.
class Expression {
 public:
  using Entry = std::pair<Integral, u64>;
  using Terms = std::vector<Entry, Metered<Entry>>;

  Expression() = default;
  static Expression single(const Integral& x, u64 coef = 1);
  // Sorts and merges (x, c) pairs in any order; zero sums are dropped.
  static Expression from_terms(std::vector<Entry>& terms, nmod_t m);  // sorts `terms` in place

  const Terms& terms() const { return terms_; }
  bool empty() const { return terms_.empty(); }
  std::size_t size() const { return terms_.size(); }
  u64 coef(const Integral& x) const;  // 0 when absent
  bool contains(const Integral& x) const { return coef(x) != 0; }

  // this += f * other
  void add_scaled(const Expression& other, u64 f, nmod_t m);
  // Substitutes x -> v (v must not contain x), appending the integrals that appear (absent
  // before) and those that cancel. False when x is absent (nothing changes).
  bool substitute(const Integral& x, const Expression& v, nmod_t m, std::vector<Integral>& appeared,
                  std::vector<Integral>& cancelled);
  // Removes x and returns its coefficient (0 if absent).
  u64 take(const Integral& x);

  bool operator==(const Expression& o) const { return terms_ == o.terms_; }

 private:
  template <class OnNew, class OnCancel>
  void merge_scaled(const Expression& other, u64 f, nmod_t m, const Integral* drop, OnNew&& on_new,
                    OnCancel&& on_cancel);

  Terms terms_;
};

class SubstitutionTable {
 public:
  using Values = std::unordered_map<Integral, Expression, IntegralHash, std::equal_to<Integral>,
                                    Metered<std::pair<const Integral, Expression>>>;
  using Keys = std::vector<Integral, Metered<Integral>>;

  explicit SubstitutionTable(nmod_t m) : mod_(m) {}

  std::size_t size() const { return values_.size(); }
  bool has(const Integral& key) const { return values_.count(key) != 0; }
  const Expression& value(const Integral& key) const { return values_.at(key); }

  // Replaces every key in e by its value.
  void resolve(Expression& e) const;

  // Adds key -> e. e is resolved first and must not contain key; values that mention key are
  // updated so the table stays resolved. Throws std::invalid_argument if key is already a key.
  void insert(const Integral& key, Expression e);

  const Values& values() const { return values_; }
  // Keys whose value contains x (empty when none): where x can be reached through the table.
  std::vector<Integral> keys_using(const Integral& x) const;
  std::size_t use_count(const Integral& x) const {
    auto it = users_.find(x);
    return it == users_.end() ? 0 : it->second.size();
  }

 private:
  void unuse(const Integral& x, const Integral& key);

  nmod_t mod_;
  Values values_;
  // integral -> keys whose value contains it, unordered and without repeats. Lists rather than
  // sets: a long job's table has hundreds of thousands of (integral, key) pairs, and a node per
  // pair triples their memory; removals (cancellations) are rare.
  std::unordered_map<Integral, Keys, IntegralHash, std::equal_to<Integral>, Metered<std::pair<const Integral, Keys>>>
      users_;
};

}  // namespace sailir
