#include "recording/recorder.hpp"

#include <algorithm>
#include <numeric>

namespace sailir {

Recorder::Recorder(const IdentitySet& ids, const IdentitySet& other, const LaportaOrder& order,
                   std::function<bool(SectorId)> is_zero_sector, const std::vector<Integral>& masters,
                   Elimination mode)
    : ids_(ids), other_(other), order_(order), is_zero_(std::move(is_zero_sector)),
      masters_(masters.begin(), masters.end()), mode_(mode), mod_(ids.modulus()), n_(ids.propagators()) {}

std::uint32_t Recorder::column(const Integral& x) {
  auto [it, fresh] = col_of_.emplace(x, static_cast<std::uint32_t>(cols_.size()));
  if (fresh) {
    cols_.push_back(x);
    col_key_.push_back(order_.key(x));
    pivot_row_.push_back(-1);
    acc_.push_back(0);
    is_touched_.push_back(0);
  }
  return it->second;
}

void Recorder::load(std::uint32_t col, u64 v) {
  acc_[col] = nmod_add(acc_[col], v, mod_);
  if (!is_touched_[col]) {
    is_touched_[col] = 1;
    touched_.push_back(col);
  }
  queue_pivot(col);
}

// Queues the row that pivots `col`, if any and if the current reduction eliminates there: in
// Laporta mode a row leaves the sectors below its own alone, as the reducer's sector systems do.
void Recorder::queue_pivot(std::uint32_t col) {
  const std::int32_t p = pivot_row_[col];
  if (p < 0 || queued_[p] == generation_ || col_key_[col].hi < floor_) return;
  queued_[p] = generation_;
  OrderKey prio = col_key_[col];  // Laporta: the most complex column first
  if (mode_ == Elimination::creation_order) prio = OrderKey{~std::uint64_t(p), {}};  // earliest row first
  pending_.emplace(prio, static_cast<std::uint32_t>(p));
}

// Eliminates the queued pivots. In creation order: a row holds no pivot of an earlier row, so one
// pass in that order clears every pivot column. In Laporta order: a row's tail lies below its
// lead, so one pass from the most complex column down does.
void Recorder::eliminate(std::vector<std::uint32_t>& used) {
  while (!pending_.empty()) {
    const std::uint32_t r = pending_.top().second;
    pending_.pop();
    const Row& row = rows_[r];
    const u64 f = acc_[row.lead];
    if (f == 0) continue;
    used.push_back(r);
    acc_[row.lead] = 0;
    const u64 g = nmod_neg(f, mod_), gpre = nmod_mul_precomp(g, mod_);
    for (auto [c, v] : row.tail) load(c, nmod_mul_shoup(g, gpre, v, mod_));
  }
}

// Laporta mode: whether the most complex entry left has no pivot, so that the row can be solved for
// it with everything else below it.
bool Recorder::leads_cleanly() const {
  std::int64_t top = -1;
  for (std::uint32_t c : touched_)
    if (acc_[c] && (top < 0 || col_key_[top] < col_key_[c])) top = c;
  return top < 0 || (pivot_row_[top] < 0 && !masters_.count(cols_[top]));
}

std::vector<std::pair<std::uint32_t, u64>> Recorder::take_nonzero() {
  std::vector<std::pair<std::uint32_t, u64>> out;
  for (std::uint32_t c : touched_) {
    if (acc_[c]) out.emplace_back(c, acc_[c]);
    acc_[c] = 0;
    is_touched_[c] = 0;
  }
  touched_.clear();
  ++generation_;
  return out;
}

void Recorder::add(int templ, const Integral& seed, const Integral& lead) {
  Row row{templ, seed, 0, {}, {}, {}};
  floor_ = mode_ == Elimination::laporta_order ? LaportaOrder::sector_floor(sector_of(lead, n_)) : 0;
  u64 a[kMaxPropagators], b[kMaxPropagators];
  ids_.seed_values(seed, a);
  other_.seed_values(seed, b);
  for (int k = 0; k < ids_.terms(templ); ++k) {
    Integral x = seed;
    for (int i = 0; i < n_; ++i) x.a[i] = static_cast<std::int8_t>(seed.a[i] + ids_.shift(templ, k)[i]);
    if (is_zero_(sector_of(x, n_))) continue;
    const u64 c = ids_.coefficient_at(templ, k, a);
    if (c == 0) {
      if (other_.coefficient_at(templ, k, b) != 0)
        throw RecordingError("a coefficient of identity " + std::to_string(templ) + " at " + format_integral(seed, n_) +
                             " vanishes modulo one prime only: record at another point");
      continue;
    }
    const std::uint32_t col = column(x);
    row.terms.emplace_back(static_cast<std::uint16_t>(k), col);
    load(col, c);
  }
  eliminate(row.used);
  if (mode_ == Elimination::laporta_order && !leads_cleanly()) {  // its own sector cancelled: all the way down
    floor_ = 0;
    for (std::uint32_t c : touched_)
      if (acc_[c]) queue_pivot(c);
    eliminate(row.used);
  }
  auto red = take_nonzero();
  if (red.empty()) return;  // dependent on earlier rows
  auto it = col_of_.find(lead);
  auto at = std::find_if(red.begin(), red.end(), [&](auto& e) { return it != col_of_.end() && e.first == it->second; });
  if (mode_ == Elimination::laporta_order) at = red.end();  // the most complex, as Laporta solves
  if (at == red.end()) {  // the intended integral cancelled: the most complex one left, not a master
    auto rank = [&](auto& e) { return std::make_pair(!masters_.count(cols_[e.first]), order_.key(cols_[e.first])); };
    at = std::max_element(red.begin(), red.end(), [&](auto& x, auto& y) { return rank(x) < rank(y); });
    if (masters_.count(cols_[at->first]))
      throw RecordingError("the recorded equations relate the masters (" + format_integral(cols_[at->first], n_) +
                           "): the basis is not independent at this point");
  }
  row.lead = at->first;
  const u64 inv = nmod_inv(at->second, mod_);
  for (auto [c, v] : red)
    if (c != row.lead) row.tail.emplace_back(c, nmod_mul(v, inv, mod_));
  pivot_row_[row.lead] = static_cast<std::int32_t>(rows_.size());
  rows_.push_back(std::move(row));
  queued_.resize(rows_.size(), UINT32_MAX);
}

// Rows the targets need: those they eliminate, and recursively the rows those were reduced by.
std::vector<char> Recorder::mark(const std::vector<std::vector<std::uint32_t>>& target_used) const {
  std::vector<char> keep(rows_.size(), 0);
  std::vector<std::uint32_t> stack;
  for (auto& list : target_used) stack.insert(stack.end(), list.begin(), list.end());
  while (!stack.empty()) {
    const std::uint32_t r = stack.back();
    stack.pop_back();
    if (keep[r]) continue;
    keep[r] = 1;
    stack.insert(stack.end(), rows_[r].used.begin(), rows_[r].used.end());
  }
  return keep;
}

Recording Recorder::finish(const std::vector<Integral>& targets, const std::vector<Integral>& masters,
                           std::vector<std::vector<u64>>& values) {
  if (masters.size() != masters_.size()) throw std::logic_error("Recorder::finish: another master basis");
  std::vector<std::uint32_t> master_cols, target_cols;
  for (const Integral& m : masters) master_cols.push_back(column(m));
  std::vector<std::int32_t> master_index(cols_.size() + targets.size(), -1);
  for (std::size_t i = 0; i < master_cols.size(); ++i) master_index[master_cols[i]] = static_cast<std::int32_t>(i);
  std::vector<std::vector<std::uint32_t>> target_used(targets.size());
  std::vector<std::uint8_t> zero(targets.size(), 0);
  values.assign(targets.size(), std::vector<u64>(masters.size(), 0));
  queued_.resize(rows_.size(), UINT32_MAX);
  for (std::size_t t = 0; t < targets.size(); ++t) {
    target_cols.push_back(column(targets[t]));
    master_index.resize(cols_.size(), -1);
    if (is_zero_(sector_of(targets[t], n_))) {
      zero[t] = 1;
      continue;
    }
    floor_ = 0;
    load(target_cols[t], 1);
    eliminate(target_used[t]);
    for (auto [c, v] : take_nonzero()) {
      if (master_index[c] < 0)
        throw RecordingError("the recorded equations do not reduce " + format_integral(targets[t], n_) +
                             " to masters: " + format_integral(cols_[c], n_) + " is left");
      values[t][master_index[c]] = v;
    }
  }
  kept_ = mark(target_used);
  return compile(kept_, target_cols, master_cols, zero, target_used);
}

std::vector<Recorder::Equation> Recorder::kept_equations() const {
  std::vector<Equation> out;
  for (std::size_t r = 0; r < kept_.size(); ++r)
    if (kept_[r]) out.push_back(Equation{rows_[r].templ, rows_[r].seed, cols_[rows_[r].lead]});
  return out;
}

Integral Recorder::highest(int templ, const Integral& seed) const {
  u64 a[kMaxPropagators];
  ids_.seed_values(seed, a);
  Integral best = seed;
  bool found = false;
  for (int k = 0; k < ids_.terms(templ); ++k) {
    Integral x = seed;
    for (int i = 0; i < n_; ++i) x.a[i] = static_cast<std::int8_t>(seed.a[i] + ids_.shift(templ, k)[i]);
    if (is_zero_(sector_of(x, n_)) || ids_.coefficient_at(templ, k, a) == 0) continue;
    if (!found || order_.less(best, x)) best = x;
    found = true;
  }
  return best;
}

Recording Recorder::compile(const std::vector<char>& keep, const std::vector<std::uint32_t>& target_cols,
                           const std::vector<std::uint32_t>& master_cols, const std::vector<std::uint8_t>& zero,
                           const std::vector<std::vector<std::uint32_t>>& target_used) const {
  // New row ids for the kept rows; new columns for the integrals they touch, in the Laporta order.
  std::vector<std::uint32_t> new_row(rows_.size(), UINT32_MAX);
  std::vector<char> col_used(cols_.size(), 0);
  std::uint32_t kept = 0;
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    if (!keep[r]) continue;
    new_row[r] = kept++;
    col_used[rows_[r].lead] = 1;
    for (auto [k, c] : rows_[r].terms) col_used[c] = 1;
    for (auto [c, v] : rows_[r].tail) col_used[c] = 1;
  }
  for (auto c : master_cols) col_used[c] = 1;
  for (auto c : target_cols) col_used[c] = 1;
  std::vector<std::uint32_t> order;
  for (std::uint32_t c = 0; c < cols_.size(); ++c)
    if (col_used[c]) order.push_back(c);
  std::sort(order.begin(), order.end(), [&](auto x, auto y) { return order_.less(cols_[x], cols_[y]); });
  std::vector<std::uint32_t> new_col(cols_.size(), UINT32_MAX);
  Recording rec;
  rec.n = n_;
  for (std::uint32_t i = 0; i < order.size(); ++i) {
    new_col[order[i]] = i;
    rec.columns.push_back(cols_[order[i]]);
  }
  for (auto c : master_cols) rec.masters.push_back(new_col[c]);
  for (auto c : target_cols) rec.targets.push_back(new_col[c]);
  rec.target_zero = zero;
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    if (!keep[r]) continue;
    const Row& row = rows_[r];
    rec.row_template.push_back(row.templ);
    rec.row_seed.push_back(row.seed);
    rec.row_lead.push_back(new_col[row.lead]);
    for (auto [k, c] : row.terms) {
      rec.term_k.push_back(k);
      rec.term_col.push_back(new_col[c]);
    }
    rec.term_begin.push_back(static_cast<std::uint32_t>(rec.term_col.size()));
    for (auto u : row.used) rec.used.push_back(new_row[u]);
    rec.used_begin.push_back(static_cast<std::uint32_t>(rec.used.size()));
    for (auto [c, v] : row.tail) rec.tail_col.push_back(new_col[c]);
    rec.tail_begin.push_back(static_cast<std::uint32_t>(rec.tail_col.size()));
  }
  for (auto& list : target_used) {
    for (auto u : list) rec.target_used.push_back(new_row[u]);
    rec.target_used_begin.push_back(static_cast<std::uint32_t>(rec.target_used.size()));
  }
  return rec;
}

std::vector<Recorder::Equation> bottom_up(const Recorder& recorder, std::vector<Recorder::Equation> equations,
                                          const LaportaOrder& order) {
  for (auto& e : equations) e.lead = recorder.highest(e.templ, e.seed);
  std::stable_sort(equations.begin(), equations.end(), [&](auto& x, auto& y) { return order.less(x.lead, y.lead); });
  return equations;
}

}  // namespace sailir
