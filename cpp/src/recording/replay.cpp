#include "recording/replay.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "identities/identity_set.hpp"

namespace sailir {

Replayer::Replayer(const FamilyDef& family, const Recording& rec)
    : family_(family), rec_(rec), acc_(rec.columns.size(), 0), tail_val_(rec.tail_col.size(), 0) {}

void Replayer::load_row(std::size_t r, const IdentitySet& ids) {
  u64 a[kMaxPropagators];
  ids.seed_values(rec_.row_seed[r], a);
  const int templ = rec_.row_template[r];
  for (std::uint32_t j = rec_.term_begin[r]; j < rec_.term_begin[r + 1]; ++j) {
    const std::uint32_t c = rec_.term_col[j];
    acc_[c] = nmod_add(acc_[c], ids.coefficient_at(templ, rec_.term_k[j], a), mod_);
  }
}

// Subtracts rows used[begin..end) in order, each scaled by the accumulator at its lead.
void Replayer::eliminate(const std::vector<std::uint32_t>& used, std::uint32_t begin, std::uint32_t end) {
  for (std::uint32_t j = begin; j < end; ++j) {
    const std::uint32_t u = used[j], lead = rec_.row_lead[u];
    const u64 f = acc_[lead];
    if (f == 0) continue;
    acc_[lead] = 0;
    const u64 g = nmod_neg(f, mod_), gpre = nmod_mul_precomp(g, mod_);
    for (std::uint32_t k = rec_.tail_begin[u]; k < rec_.tail_begin[u + 1]; ++k) {
      const std::uint32_t c = rec_.tail_col[k];
      acc_[c] = nmod_add(acc_[c], nmod_mul_shoup(g, gpre, tail_val_[k], mod_), mod_);
    }
  }
}

// Normalizes row r at its lead into tail_val_; false when the lead vanishes (a degenerate probe).
bool Replayer::store_row(std::size_t r) {
  const std::uint32_t lead = rec_.row_lead[r];
  const u64 pivot = acc_[lead];
  acc_[lead] = 0;
  if (pivot == 0) return false;
  const u64 inv = nmod_inv(pivot, mod_), ipre = nmod_mul_precomp(inv, mod_);
  for (std::uint32_t k = rec_.tail_begin[r]; k < rec_.tail_begin[r + 1]; ++k) {
    const std::uint32_t c = rec_.tail_col[k];
    tail_val_[k] = nmod_mul_shoup(inv, ipre, acc_[c], mod_);
    acc_[c] = 0;
  }
  return true;
}

bool Replayer::run(u64 prime, const std::vector<u64>& point, std::vector<u64>& out, bool checked) {
  mod_ = nmod_t{prime};
  const IdentitySet ids(family_, point, mod_);
  for (std::size_t r = 0; r < rec_.rows(); ++r) {
    load_row(r, ids);
    eliminate(rec_.used, rec_.used_begin[r], rec_.used_begin[r + 1]);
    if (!store_row(r)) {
      std::fill(acc_.begin(), acc_.end(), 0);
      return false;
    }
    if (checked) check_clean(rec_.used, rec_.used_begin[r], rec_.used_begin[r + 1], rec_.term_col.data() + rec_.term_begin[r],
                             rec_.term_begin[r + 1] - rec_.term_begin[r]);
  }
  const std::size_t nm = rec_.masters.size();
  out.assign(rec_.targets.size() * nm, 0);
  for (std::size_t t = 0; t < rec_.targets.size(); ++t) {
    if (rec_.target_zero[t]) continue;
    acc_[rec_.targets[t]] = 1;
    eliminate(rec_.target_used, rec_.target_used_begin[t], rec_.target_used_begin[t + 1]);
    for (std::size_t m = 0; m < nm; ++m) {
      out[t * nm + m] = acc_[rec_.masters[m]];
      acc_[rec_.masters[m]] = 0;
    }
    if (checked)
      check_clean(rec_.target_used, rec_.target_used_begin[t], rec_.target_used_begin[t + 1], &rec_.targets[t], 1);
  }
  return true;
}

// Every column a row touched must be zero again: an entry left over lies outside the recorded
// structure (a coefficient or a cancellation that was accidental at the recording point).
void Replayer::check_clean(const std::vector<std::uint32_t>& used, std::uint32_t begin, std::uint32_t end,
                           const std::uint32_t* cols, std::size_t count) const {
  auto fail = [&](std::uint32_t c) {
    throw RecordingError("the equations do not keep the recorded structure here (" +
                         format_integral(rec_.columns[c], rec_.n) + " is left over): record again at another point");
  };
  for (std::size_t i = 0; i < count; ++i)
    if (acc_[cols[i]]) fail(cols[i]);
  for (std::uint32_t j = begin; j < end; ++j)
    for (std::uint32_t k = rec_.tail_begin[used[j]]; k < rec_.tail_begin[used[j] + 1]; ++k)
      if (acc_[rec_.tail_col[k]]) fail(rec_.tail_col[k]);
}

double replay_many(const FamilyDef& family, const Recording& rec, u64 prime, const std::vector<std::vector<u64>>& points,
                   std::vector<std::vector<u64>>& values, int threads, const LaneProgram* lanes) {
  values.assign(points.size(), {});
  std::atomic<std::size_t> next{0};
  std::atomic<std::int64_t> busy_ns{0};
  auto probes = [&](auto&& replayer) {
    std::vector<u64> out;
    for (std::size_t i; (i = next++) < points.size();)
      if (replayer.run(prime, points[i], out)) values[i] = out;
  };
  auto worker = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    if (lanes)
      probes(LaneReplayer(family, *lanes));
    else
      probes(Replayer(family, rec));
    busy_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  };
  const int n = std::max(1, std::min<int>(threads, static_cast<int>(points.size())));
  {
    std::vector<std::jthread> pool;
    for (int t = 1; t < n; ++t) pool.emplace_back(worker);
    worker();
  }
  return 1e-9 * double(busy_ns.load());
}

std::unique_ptr<SymmetricBasis> symmetric_stage(const FamilyDef& family, const Recording& rec) {
  if (rec.user_targets == 0) return nullptr;
  auto stage = std::make_unique<SymmetricBasis>(family, rec.master_integrals());
  const std::vector<Integral> targets = rec.target_integrals();
  const std::vector<Integral> extras(targets.begin() + static_cast<std::ptrdiff_t>(rec.user_targets), targets.end());
  // A recording made before the family's symmetries grew (leg permutations joined the search)
  // lacks images its masters need now: say so once rather than fail at every probe.
  const nmod_t mod{kCheckPrimes[1]};
  std::mt19937_64 rng(0x5eed);
  std::vector<u64> at(family.symbols.size());
  for (u64& v : at) v = 2 + rng() % (mod.n - 2);
  for (const Integral& x : stage->extras(at, mod))
    if (std::find(extras.begin(), extras.end(), x) == extras.end())
      throw RecordingError("the recording lacks the symmetry image " + format_integral(x, family.n) +
                           " that its masters need now: it predates symmetries the family has; record it again");
  stage->set_extras(extras);
  return stage;
}

std::vector<Integral> caller_targets(const Recording& rec) {
  std::vector<Integral> targets = rec.target_integrals();
  if (rec.user_targets) targets.resize(rec.user_targets);
  return targets;
}

}  // namespace sailir
