#include "algebra/expression.hpp"

#include <algorithm>
#include <stdexcept>

namespace sailir {

Expression Expression::single(const Integral& x, u64 coef) {
  Expression e;
  if (coef) e.terms_.emplace_back(x, coef);
  return e;
}

Expression Expression::from_terms(std::vector<Entry>& terms, nmod_t m) {
  std::sort(terms.begin(), terms.end(), [](const Entry& x, const Entry& y) { return IntegralLess{}(x.first, y.first); });
  Expression e;
  e.terms_.reserve(terms.size());
  for (auto& [x, c] : terms) {
    if (!e.terms_.empty() && e.terms_.back().first == x) {
      e.terms_.back().second = nmod_add(e.terms_.back().second, c, m);
      if (e.terms_.back().second == 0) e.terms_.pop_back();
    } else if (c != 0) {
      e.terms_.emplace_back(x, c);
    }
  }
  return e;
}

u64 Expression::coef(const Integral& x) const {
  auto it = std::lower_bound(terms_.begin(), terms_.end(), x,
                             [](const Entry& e, const Integral& k) { return IntegralLess{}(e.first, k); });
  return it != terms_.end() && it->first == x ? it->second : 0;
}

template <class OnNew, class OnCancel>
void Expression::merge_scaled(const Expression& other, u64 f, nmod_t m, const Integral* drop, OnNew&& on_new,
                              OnCancel&& on_cancel) {
  if (f == 0 || other.terms_.empty()) return;
  const u64 f_pre = nmod_mul_precomp(f, m);  // f is fixed: multiply without dividing
  // Merged into scratch space, then copied back: terms cancel often, and a result built in place
  // of the sum of both sizes would keep that capacity.
  thread_local std::vector<Entry> out;
  out.clear();
  out.reserve(terms_.size() + other.terms_.size());
  auto i = terms_.begin();
  auto j = other.terms_.begin();
  IntegralLess less;
  while (i != terms_.end() || j != other.terms_.end()) {
    if (j == other.terms_.end() || (i != terms_.end() && less(i->first, j->first))) {
      if (!drop || !(i->first == *drop)) out.push_back(*i);
      ++i;
    } else if (i == terms_.end() || less(j->first, i->first)) {
      out.emplace_back(j->first, nmod_mul_shoup(f, f_pre, j->second, m));
      on_new(j->first);
      ++j;
    } else {
      u64 v = nmod_add(i->second, nmod_mul_shoup(f, f_pre, j->second, m), m);
      if (v) out.emplace_back(i->first, v);
      else on_cancel(i->first);
      ++i;
      ++j;
    }
  }
  if (terms_.capacity() > 2 * out.size() + 8) terms_ = Terms(out.begin(), out.end());  // it shrank a lot
  else terms_.assign(out.begin(), out.end());
}

void Expression::add_scaled(const Expression& other, u64 f, nmod_t m) {
  merge_scaled(other, f, m, nullptr, [](const Integral&) {}, [](const Integral&) {});
}

bool Expression::substitute(const Integral& x, const Expression& v, nmod_t m, std::vector<Integral>& appeared,
                            std::vector<Integral>& cancelled) {
  const u64 f = coef(x);
  if (f == 0) return false;
  merge_scaled(
      v, f, m, &x, [&](const Integral& y) { appeared.push_back(y); }, [&](const Integral& y) { cancelled.push_back(y); });
  return true;
}

u64 Expression::take(const Integral& x) {
  auto it = std::lower_bound(terms_.begin(), terms_.end(), x,
                             [](const Entry& e, const Integral& k) { return IntegralLess{}(e.first, k); });
  if (it == terms_.end() || !(it->first == x)) return 0;
  u64 v = it->second;
  terms_.erase(it);
  return v;
}

void SubstitutionTable::resolve(Expression& e) const {
  // Values are resolved, so one pass over the keys present in e suffices.
  std::vector<std::pair<Integral, u64>> hits;
  for (auto& [x, c] : e.terms())
    if (values_.count(x)) hits.emplace_back(x, c);
  for (auto& [x, c] : hits) {
    e.take(x);
    e.add_scaled(values_.at(x), c, mod_);
  }
}

std::vector<Integral> SubstitutionTable::keys_using(const Integral& x) const {
  auto it = users_.find(x);
  if (it == users_.end()) return {};
  std::vector<Integral> keys(it->second.begin(), it->second.end());
  std::sort(keys.begin(), keys.end(), IntegralLess{});  // deterministic order
  return keys;
}

void SubstitutionTable::unuse(const Integral& x, const Integral& key) {
  auto it = users_.find(x);
  if (it == users_.end()) return;
  auto& keys = it->second;
  auto k = std::find(keys.begin(), keys.end(), key);
  if (k == keys.end()) return;
  *k = keys.back();
  keys.pop_back();
  if (keys.empty()) users_.erase(it);
  else if (keys.capacity() > 4 * keys.size() + 8) keys.shrink_to_fit();  // values thin out late in a job
}

void SubstitutionTable::insert(const Integral& key, Expression e) {
  if (values_.count(key)) throw std::invalid_argument("substitution table already has this key");
  resolve(e);
  if (e.contains(key)) throw std::invalid_argument("a substitution value may not contain its own key");
  // Every value that mentions the new key gets the new value substituted in; the terms that come
  // or go are what the merge reports, so the reverse index changes only there.
  if (auto it = users_.find(key); it != users_.end()) {
    const Keys affected = std::move(it->second);
    users_.erase(it);  // no value holds the key any more
    std::vector<Integral> appeared, cancelled;
    for (const Integral& k : affected) {
      appeared.clear();
      cancelled.clear();
      values_.at(k).substitute(key, e, mod_, appeared, cancelled);
      for (const Integral& y : appeared) users_[y].push_back(k);
      for (const Integral& y : cancelled) unuse(y, k);
    }
  }
  for (auto& [x, c] : e.terms()) users_[x].push_back(key);
  values_.emplace(key, std::move(e));
}

}  // namespace sailir
