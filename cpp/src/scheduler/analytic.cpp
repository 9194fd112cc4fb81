#include "scheduler/analytic.hpp"

#include <chrono>
#include <optional>
#include <random>

#include "reconstruct/reconstruct.hpp"
#include "recording/replay.hpp"
#include "scheduler/path_recording.hpp"

namespace sailir {

NumericPoint fixed_symbols(const FamilyDef& family, std::string_view spec) {
  NumericPoint given = given_symbols(family, spec);
  if (family.one.empty()) return given;
  if (std::none_of(given.begin(), given.end(), [&](auto& kv) { return kv.first == family.one; }))
    given.emplace_back(family.one, "1");
  NumericPoint ordered;  // the family's order
  for (const std::string& s : family.symbols)
    for (auto& kv : given)
      if (kv.first == s) ordered.push_back(kv);
  return ordered;
}

NumericPoint recording_point(const FamilyDef& family, const NumericPoint& fixed, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  NumericPoint point;
  for (const std::string& s : family.symbols) {
    auto it = std::find_if(fixed.begin(), fixed.end(), [&](auto& kv) { return kv.first == s; });
    if (it != fixed.end()) {
      point.push_back(*it);
      continue;
    }
    const std::uint64_t p = (rng() >> 4) | 1, q = (rng() >> 34) | 1;  // a 60-bit numerator over a 30-bit denominator
    point.emplace_back(s, std::to_string(p) + "/" + std::to_string(q));
  }
  return point;
}

namespace {

// Per family symbol: its index among the free variables, or -1 when fixed.
std::vector<int> variable_slots(const FamilyDef& family, const NumericPoint& fixed, std::vector<std::string>& names) {
  std::vector<int> slot;
  for (const std::string& s : family.symbols) {
    const bool is_fixed = std::any_of(fixed.begin(), fixed.end(), [&](auto& kv) { return kv.first == s; });
    slot.push_back(is_fixed ? -1 : static_cast<int>(names.size()));
    if (!is_fixed) names.push_back(s);
  }
  return slot;
}

// The fixed symbols' values modulo `prime` in the family's order (free slots left 0).
std::vector<u64> fixed_values(const FamilyDef& family, const NumericPoint& fixed, u64 prime) {
  std::vector<u64> base(family.symbols.size(), 0);
  for (std::size_t i = 0; i < family.symbols.size(); ++i)
    for (auto& [sym, value] : fixed)
      if (sym == family.symbols[i]) base[i] = nmod_set_str(value, nmod_t{prime});
  return base;
}

// One replay at a fresh random point and prime (the fixed values kept): false when a pivot of the
// recording vanishes there. Else `stage` is the recording's symmetric stage, planned there (the
// first apply fixes which masters the symmetry relations eliminate). Throws when they degenerate.
bool keeps_structure(const FamilyDef& family, const Recording& rec, const std::vector<int>& slot,
                     const NumericPoint& fixed, std::uint64_t seed, std::unique_ptr<SymmetricBasis>& stage) {
  const u64 prime = kCheckPrimes[2];
  std::vector<u64> symbols = fixed_values(family, fixed, prime), out;
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  for (std::size_t k = 0; k < slot.size(); ++k)
    if (slot[k] >= 0) symbols[k] = 1 + rng() % (prime - 1);
  Replayer replayer(family, rec);
  if (!replayer.run(prime, symbols, out, true)) return false;
  std::vector<u64> rows;
  stage = symmetric_stage(family, rec);
  if (stage && !stage->plan(symbols, nmod_t{prime}, rec.user_targets, out, rows))
    throw RecordingError("the symmetry relations among the masters degenerate at a random point");
  return true;
}

// The recording, or when one of its pivots vanishes at the fixed values for every value of the
// free symbols, the recording made again there (replayable()).
const Recording& usable_recording(const FamilyDef& family, const Recording& rec, const std::vector<int>& slot,
                                  const NumericPoint& fixed, const AnalyticOptions& options,
                                  std::optional<Recording>& again, std::unique_ptr<SymmetricBasis>& stage) {
  auto replays = [&](const Recording& x) { return keeps_structure(family, x, slot, fixed, options.seed, stage); };
  const NumericPoint at = recording_point(family, fixed, options.seed);
  const Recording* usable = replayable(family, rec, at, rec.prime, replays, again);
  if (usable == &rec) return rec;
  std::string given;
  for (auto& [name, value] : fixed)
    if (name != family.one) given += (given.empty() ? "" : ",") + name + "=" + value;
  const std::string why = given.empty() ? "a pivot of the recording vanishes at a random point"
                                        : "a pivot of the recording vanishes at " + given +
                                              " for every value of the other symbols";
  if (usable) {
    if (options.progress) options.progress(why + ": recorded it again there from its own equations");
    return *usable;
  }
  if (given.empty()) throw RecordingError(why + ": the recording is not generic");
  throw RecordingError(why + ", and its equations do not reduce the targets there; reduce the integrals with "
                       "these values fixed (--analytic --point " + given + " INTEGRAL...)");
}

// Each probe's rows rewritten onto the masters of unique sectors (symmetric recordings).
void apply_stage(const SymmetricBasis& stage, std::size_t targets, u64 prime,
                 const std::vector<std::vector<u64>>& points, std::vector<std::vector<u64>>& values) {
  std::vector<u64> rows;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].empty()) continue;
    if (stage.apply(points[i], nmod_t{prime}, targets, values[i], rows))
      values[i].swap(rows);
    else
      values[i].clear();
  }
}

}  // namespace

AnalyticResult reconstruct_recording(const FamilyDef& family, const Recording& recorded, const NumericPoint& fixed,
                                     const AnalyticOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  AnalyticResult res;
  res.fixed = fixed;
  const std::vector<int> slot = variable_slots(family, fixed, res.symbols);
  std::optional<Recording> again;
  std::unique_ptr<SymmetricBasis> stage;
  const Recording& rec = usable_recording(family, recorded, slot, fixed, options, again, stage);
  res.masters = stage ? stage->kept() : rec.master_integrals();
  res.targets = caller_targets(rec);
  res.size = rec.size();
  const std::size_t nm = res.masters.size();
  if (nm == 0 || res.targets.empty()) {
    res.coefficients.assign(res.targets.size(), std::vector<std::string>(nm, "0"));
    return res;
  }
  std::string text;  // the recording as a runner elsewhere gets it
  double busy_seconds = 0;  // replay time summed over threads (the cost on one core), or the GPU's
  std::unique_ptr<ProbeDevice> device;
  if (!options.runner) {
    device = std::make_unique<ProbeDevice>(options.device, family, rec, options.threads, options.max_lanes);
    res.device = device->description();
    res.device_notice = device->notice();
    if (options.notice && !res.device_notice.empty()) options.notice(res.device_notice);
    if (options.progress) options.progress("probes run on " + res.device);
  } else {
    res.device = "cluster";
  }
  std::size_t probes_done = 0;
  Blackbox box;
  box.variables = static_cast<int>(res.symbols.size());
  box.functions = static_cast<int>(res.targets.size() * nm);
  if (device) box.batch_points = device->preferred_batch();
  box.evaluate = [&](u64 prime, const std::vector<std::vector<u64>>& points, std::vector<std::vector<u64>>& values) {
    std::vector<u64> base;
    try {
      base = fixed_values(family, fixed, prime);
    } catch (const std::domain_error&) {  // a fixed value's denominator vanishes at this prime
      values.assign(points.size(), {});
      return;
    }
    probes_done += points.size();
    if (options.progress)
      options.progress("probes: " + std::to_string(points.size()) + " more modulo " + std::to_string(prime) + ", " +
                       std::to_string(probes_done) + " in all");
    std::vector<std::vector<u64>> full(points.size(), base);
    for (std::size_t i = 0; i < points.size(); ++i)
      for (std::size_t k = 0; k < slot.size(); ++k)
        if (slot[k] >= 0) full[i][k] = points[i][slot[k]];
    if (!options.runner) {
      busy_seconds += device->replay(prime, full, values);
    } else {
      if (text.empty()) text = rec.to_text();
      options.runner(text, prime, full, values);
      if (values.size() != points.size()) throw std::runtime_error("the probe runner lost probes");
    }
    if (stage) apply_stage(*stage, res.targets.size(), prime, full, values);
  };
  ReconstructOptions ro;
  ro.max_probes = options.max_probes;
  ro.seed = options.seed;
  ro.progress = options.progress;
  ReconstructStats st;
  std::vector<RationalFunction> fs = reconstruct(box, ro, st);
  res.coefficients.assign(res.targets.size(), std::vector<std::string>(nm));
  for (std::size_t t = 0; t < res.targets.size(); ++t)
    for (std::size_t m = 0; m < nm; ++m) res.coefficients[t][m] = format_rational_function(fs[t * nm + m], res.symbols);
  res.probes = st.probes;
  res.primes = st.primes;
  res.probe_seconds = st.probe_seconds;
  res.seconds_per_probe = st.probes ? busy_seconds / double(st.probes) : 0;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace sailir
