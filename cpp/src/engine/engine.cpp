#include "engine/engine.hpp"

#include <chrono>

#include "family/family_source.hpp"
#include "identities/symmetric_basis.hpp"
#include "laporta/laporta_recording.hpp"
#include "policy/policy.hpp"
#include "recording/replay.hpp"
#include "scheduler/path_recording.hpp"
#include "scheduler/request_checks.hpp"

namespace sailir {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<Integral> parse_all(const FamilyDef& family, const std::vector<std::string>& texts) {
  std::vector<Integral> out;
  for (const std::string& t : texts) out.push_back(parse_family_integral(family, t));
  return out;
}

// Coefficients of targets x masters (row-major, dense) as sparse rows.
std::vector<std::vector<std::pair<int, u64>>> sparse_rows(const std::vector<u64>& dense, std::size_t nm) {
  std::vector<std::vector<std::pair<int, u64>>> out(nm ? dense.size() / nm : 0);
  for (std::size_t t = 0; t < out.size(); ++t)
    for (std::size_t m = 0; m < nm; ++m)
      if (dense[t * nm + m]) out[t].emplace_back(static_cast<int>(m), dense[t * nm + m]);
  return out;
}

std::vector<u64> dense_rows(const std::vector<std::vector<std::pair<int, u64>>>& sparse, std::size_t nm) {
  std::vector<u64> out(sparse.size() * nm, 0);
  for (std::size_t t = 0; t < sparse.size(); ++t)
    for (auto [m, c] : sparse[t]) out[t * nm + static_cast<std::size_t>(m)] = c;
  return out;
}

// Rewrites a reduction of the caller's `targets` followed by the basis' extras onto the masters
// of unique sectors; a preferred master that symmetries eliminate is named in a warning.
void apply_symmetric(SymmetricBasis& basis, std::size_t targets, const std::vector<Integral>& preferred, int n,
                     ReductionResult& r) {
  const nmod_t mod{r.prime};
  std::vector<u64> out;
  if (!basis.plan(point_in_field(r.point, mod), mod, targets, dense_rows(r.coefficients, r.masters.size()), out))
    throw UnreducedError("the symmetry relations among the masters degenerate at this point; choose another point "
                         "or use --no-symmetries");
  r.targets.resize(targets);
  r.masters = basis.kept();
  r.coefficients = sparse_rows(out, r.masters.size());
  for (const Integral& m : basis.eliminated())
    if (std::find(preferred.begin(), preferred.end(), m) != preferred.end())
      r.warnings.push_back("preferred master " + format_integral(m, n) +
                           " is related by sector symmetries to the other masters and is expressed through them "
                           "(--no-symmetries keeps it)");
}

LearnedOptions learned_options(const EngineOptions& o) {
  LearnedOptions l = o.learned;
  l.policy_device = o.device;
  return l;
}

// A reduction onto an automatic basis fixed before it started (sector symmetries plan on it) may
// fail where masters with two numerator powers are needed: the reducer would have found them by
// itself (LaportaReducer::reduce), so the request is planned again on those.
bool deeper_masters_may_help(const SymmetricBasis* basis, const ReductionRequest& given, const UnreducedError& e) {
  return basis && given.preferred.empty() && !dynamic_cast<const DependentBasisError*>(&e);
}
std::string deeper_masters_note(const UnreducedError& e) {
  return std::string("masters found up to two numerator powers: with one, ") + e.what();
}

AnalyticOptions analytic_options(const EngineOptions& o) {
  AnalyticOptions a;
  a.threads = o.threads;
  a.max_probes = o.max_probes;
  a.progress = o.progress;
  a.runner = o.runner;
  a.device = o.device;
  a.notice = o.notice;
  return a;
}

// The learned method's policy: the caller's, a file, the one shipped with the family, or an
// ablation baseline (uniform, random with a seed).
class PolicyRef {
 public:
  PolicyRef(const EngineOptions& o, const FamilyDef& family) {
    if (o.loaded_policy) {
      ptr_ = o.loaded_policy;
      return;
    }
    own_ = std::make_unique<Policy>(Policy::choose(o.policy, o.policy_seed, family.name, family.hash));
    ptr_ = own_.get();
  }
  operator const Policy&() const { return *ptr_; }

 private:
  std::unique_ptr<Policy> own_;
  const Policy* ptr_ = nullptr;
};

void require_targets(const std::vector<Integral>& given, const std::vector<Integral>& own) {
  if (!given.empty() && given != own)
    throw std::invalid_argument("a replay recomputes the file's own integrals; leave out the integrals or give the same ones");
}

}  // namespace

void check_options(const EngineOptions& o) {
  if (o.device == Device::cuda) {  // asked for by name: refused at once, not after a reduction
    std::string unused;
    choose_cuda(o.device, "", unused);
  }
  if (o.method != "laporta" && o.method != "learned")
    throw std::invalid_argument("unknown method '" + o.method + "' (laporta, learned)");
  Policy::check_choice(o.policy, o.policy_seed);
  n_check_prime(o.prime);
  ReductionRequest req;
  req.threads = o.threads;
  req.options.r_extra = o.r_extra;
  req.options.s_extra = o.s_extra;
  check_request(req, o.method == "learned" ? &o.learned : nullptr);
  check_range("max_probes", static_cast<long long>(o.max_probes), 1, 1000000000);
}

namespace {

// The masters the symmetry relations keep, from `rows` (the extras over reducer's masters).
std::vector<Integral> plan_kept(SymmetricBasis& basis, std::size_t masters, const std::vector<u64>& values, nmod_t mod,
                                const std::vector<std::vector<std::pair<int, u64>>>& rows) {
  std::vector<u64> out;
  if (!basis.plan(values, mod, 0, dense_rows(rows, masters), out))
    throw UnreducedError("the symmetry relations among the masters degenerate at this point; choose another point");
  return basis.kept();
}

}  // namespace

UniqueMasters unique_masters(const FamilyDef& family, LaportaReducer& reducer, const NumericPoint& point,
                             std::size_t memory) {
  SymmetricBasis basis(family, reducer.masters());
  if (basis.empty()) return {reducer.masters(), false};
  const nmod_t mod{reducer.prime()};
  const std::vector<u64> values = point_in_field(point, mod);
  basis.set_extras(basis.extras(values, mod));
  const std::size_t nm = reducer.masters().size();
  // The images fully reduced give the basis a reduction ends on. That descends through every
  // subsector; where it would pass the listing's budget (a three-loop family went past 8 GB),
  // the images are reduced modulo subsectors instead, one system per sector: an upper bound.
  LaportaOptions bounded;
  bounded.memory_limit = std::min<std::size_t>(default_memory_limit(), memory);
  bounded.memory_limit_note = " (reducing the masters' images under the sector symmetries)";
  try {
    return {plan_kept(basis, nm, values, mod, reducer.reduce(basis.extra_integrals(), bounded)), false};
  } catch (const MemoryLimitError&) {
    // Over the listing's budget: the rules made so far stay with the reducer, unused.
  }
  basis.set_modulo_subsectors();
  bounded.memory_limit = default_memory_limit();
  return {plan_kept(basis, nm, values, mod, reducer.reduce_modulo_subsectors(basis.extra_integrals(), bounded)), true};
}

Engine Engine::load(const std::string& spec) { return Engine(load_family(spec)); }

ReductionRequest Engine::request(const std::vector<std::string>& integrals, const EngineOptions& o,
                                 const NumericPoint& point) const {
  ReductionRequest req;
  req.point = point;
  req.prime = o.prime;
  req.preferred = o.masters ? parse_all(family_, *o.masters) : family_.masters;
  req.targets = parse_all(family_, integrals);
  req.check = o.check;
  req.threads = o.threads;
  req.options.r_extra = o.r_extra;
  req.options.s_extra = o.s_extra;
  req.options.progress = o.progress;
  const std::size_t limit = o.memory_limit ? o.memory_limit : default_memory_limit();
  const bool halved = o.check && o.threads >= 2;  // the check prime's reducer runs beside the first
  req.options.memory_limit = halved ? limit / 2 : limit;
  if (halved) req.options.memory_limit_note = " (half of " + format_size(limit) + ": the check prime runs beside)";
  return req;
}

EngineResult Engine::reduce(const std::vector<std::string>& integrals, const EngineOptions& o) const {
  check_options(o);
  if (integrals.empty()) throw std::invalid_argument("no integral to reduce");
  if (!o.analytic) {
    const ReductionRequest req = request(integrals, o, resolve_point(family_, o.point));
    require_generic_point(family_, req.point);
    try {
      return reduce_numeric(req, o);
    } catch (const DependentBasisError&) {
      throw;
    } catch (const UnreducedError& e) {
      refuse_if_degenerate(req, e);
      throw;
    }
  }
  // Exact: the symbols o.point names stay numeric, the rest are recorded at a random point.
  const NumericPoint fixed = fixed_symbols(family_, o.point);
  const ReductionRequest req = request(integrals, o, recording_point(family_, fixed, 1));
  require_generic_point(family_, req.point);
  return reduce_analytic(req, o);
}

// With symmetries: the masters a plain reduction ends on (found here first), and the request
// extended by the images the relations among them need. Null when no symmetry relates them.
std::unique_ptr<SymmetricBasis> Engine::symmetric_request(ReductionRequest& req, const EngineOptions& o,
                                                          const std::vector<Integral>* masters, bool deeper) const {
  if (!o.symmetries || family_.symmetries.empty()) return nullptr;
  std::vector<Integral> basis_masters;
  if (masters) {
    basis_masters = *masters;
  } else {
    // At a check prime: an unlucky user prime (a rank drop) is the reduction's to detect and settle.
    LaportaReducer finder(family_, req.point, next_check_prime(req.prime, 0), req.preferred);
    if (deeper) finder.deepen_masters();
    basis_masters = finder.masters();
  }
  auto basis = std::make_unique<SymmetricBasis>(family_, basis_masters);
  if (basis->empty()) return nullptr;
  const nmod_t mod{req.prime};
  basis->set_extras(basis->extras(point_in_field(req.point, mod), mod));
  req.preferred = basis_masters;
  req.targets.insert(req.targets.end(), basis->extra_integrals().begin(), basis->extra_integrals().end());
  return basis;
}

EngineResult Engine::reduce_numeric(const ReductionRequest& given, const EngineOptions& o) const {
  ReductionRequest req = given;
  std::unique_ptr<SymmetricBasis> basis = symmetric_request(req, o, nullptr);
  EngineResult out;
  try {
    out = reduce_with_extras(req, given.targets.size(), o);
  } catch (const UnreducedError& e) {
    if (!deeper_masters_may_help(basis.get(), given, e)) throw;
    req = given;
    basis = symmetric_request(req, o, nullptr, true);
    out = reduce_with_extras(req, given.targets.size(), o);
    out.numeric.warnings.push_back(deeper_masters_note(e));
  }
  if (basis && out.numeric.masters != req.preferred) {  // deeper masters were needed: plan again on them
    req = given;
    req.preferred = out.numeric.masters;
    basis = symmetric_request(req, o, &out.numeric.masters);
    out = reduce_with_extras(req, given.targets.size(), o);
  }
  if (!basis) return out;
  // The family's own basis may hold a master that symmetries relate (the triangle-box's published
  // one does): only a basis the caller chose is worth a warning.
  const std::vector<Integral> chosen = o.masters ? given.preferred : std::vector<Integral>{};
  apply_symmetric(*basis, given.targets.size(), chosen, family_.n, out.numeric);
  if (out.recording) out.recording->user_targets = given.targets.size();
  return out;
}

// The learned method reduces the caller's `targets`; the extras after them (the masters' images,
// simple integrals the basis change needs) go to the Laporta reducer, so that its fallbacks count
// the caller's jobs only. A kept recording needs every row from one reduction: then both go to
// the learned method.
EngineResult Engine::reduce_with_extras(const ReductionRequest& req, std::size_t targets,
                                        const EngineOptions& o) const {
  if (o.method != "learned" || o.record || req.targets.size() == targets) return reduce_plain(req, o);
  ReductionRequest mine = req, extras = req;
  mine.targets.resize(targets);
  extras.targets.erase(extras.targets.begin(), extras.targets.begin() + static_cast<std::ptrdiff_t>(targets));
  extras.options.progress = nullptr;
  EngineResult out = reduce_plain(mine, o);
  ReductionResult images = reduce_checked(family_, extras);
  if (images.masters != out.numeric.masters)
    throw UnreducedError("the learned reduction and the Laporta reduction of the masters' images end on different "
                         "bases; use --no-symmetries");
  ReductionResult& r = out.numeric;
  r.targets.insert(r.targets.end(), images.targets.begin(), images.targets.end());
  r.coefficients.insert(r.coefficients.end(), images.coefficients.begin(), images.coefficients.end());
  r.warnings.insert(r.warnings.end(), images.warnings.begin(), images.warnings.end());
  return out;
}

EngineResult Engine::reduce_plain(const ReductionRequest& req, const EngineOptions& o) const {
  EngineResult out;
  out.method = o.method;
  if (o.method == "laporta") {
    out.numeric = reduce_checked(family_, req);
    if (o.record) out.recording = record_laporta(family_, generic_point(), req.prime, req.preferred, req.targets, req.options).recording;
    return out;
  }
  LearnedResult lr = reduce_learned(family_, req, PolicyRef(o, family_), learned_options(o));
  out.numeric = learned_output(lr, o.learned.verify);
  if (o.learned.verify) out.verified = lr.verified;
  out.verify_error = lr.verify_error;
  if (o.record) out.recording = record_path(family_, generic_point(), req.prime, lr.path).recording;
  out.path = std::move(lr.path);
  return out;
}

RecordedReduction Engine::record(const ReductionRequest& req, const EngineOptions& o) const {
  if (o.progress) o.progress("recording the " + o.method + " reduction at a random point");
  if (o.method == "laporta")
    return record_laporta(family_, req.point, req.prime, req.preferred, req.targets, req.options);
  ReductionRequest quiet = req;
  quiet.check = false;  // the reconstruction checks every coefficient at fresh probes and primes
  LearnedResult lr = reduce_learned(family_, quiet, PolicyRef(o, family_), learned_options(o));
  return record_path(family_, req.point, req.prime, lr.path);
}

EngineResult Engine::reduce_analytic(const ReductionRequest& given, const EngineOptions& o) const {
  EngineResult out;
  out.method = o.method;
  const auto t0 = Clock::now();
  ReductionRequest req = given;
  std::unique_ptr<SymmetricBasis> basis = symmetric_request(req, o, nullptr);
  const bool symmetric = basis != nullptr;
  RecordedReduction rr;
  try {
    rr = record(req, o);
  } catch (const UnreducedError& e) {
    if (!deeper_masters_may_help(basis.get(), given, e)) throw;
    if (o.progress) o.progress(std::string(e.what()) + "; finding masters with more numerator powers");
    req = given;
    basis = symmetric_request(req, o, nullptr, true);
    rr = record(req, o);
  }
  if (symmetric) rr.recording.user_targets = given.targets.size();
  const double record_seconds = since(t0);
  if (o.progress) {
    const RecordingSize z = rr.recording.size();
    o.progress("recorded: " + std::to_string(z.equations) + " equations, " + std::to_string(z.multiply_adds) +
               " multiply-adds per probe (" + std::to_string(z.target_multiply_adds) + " for the targets)");
  }
  out.analytic = reconstruct_recording(family_, rr.recording, fixed_symbols(family_, o.point), analytic_options(o));
  out.analytic->record_seconds = record_seconds;
  out.analytic->seconds += record_seconds;
  if (o.record) out.recording = std::move(rr.recording);
  return out;
}

EngineResult Engine::replay(const std::string& text, const std::vector<std::string>& integrals,
                            const EngineOptions& o) const {
  check_options(o);
  const std::vector<Integral> given = parse_all(family_, integrals);
  EngineResult out;
  out.method = "replay";
  if (is_recording_text(text)) {
    Recording rec = Recording::parse(text, family_);
    require_targets(given, caller_targets(rec));
    if (o.analytic) {
      out.analytic = reconstruct_recording(family_, rec, fixed_symbols(family_, o.point), analytic_options(o));
    } else {
      const auto t0 = Clock::now();
      ReductionResult& r = out.numeric;
      r.point = resolve_point(family_, o.point);
      require_generic_point(family_, r.point);
      r.prime = o.prime;
      std::vector<u64> dense;
      const std::vector<u64> values = point_in_field(r.point, nmod_t{o.prime});
      std::optional<Recording> again;
      auto replays = [&](const Recording& x) { return Replayer(family_, x).run(o.prime, values, dense, true); };
      if (!replayable(family_, rec, r.point, o.prime, replays, again))
        throw UnreducedError("a pivot of the recording vanishes at this prime and point, and its equations do not "
                             "reduce the targets here; choose another point");
      if (again) rec = std::move(*again);
      r.masters = rec.master_integrals();
      r.targets = caller_targets(rec);
      if (auto stage = symmetric_stage(family_, rec)) {
        std::vector<u64> rows;
        if (!stage->plan(values, nmod_t{o.prime}, r.targets.size(), dense, rows))
          throw UnreducedError("the symmetry relations among the masters degenerate at this point; choose another point");
        dense = std::move(rows);
        r.masters = stage->kept();
      }
      r.coefficients = sparse_rows(dense, r.masters.size());
      r.seconds = since(t0);
      const RecordingSize size = rec.size();
      r.method_stats = {{"equations", double(size.equations)}, {"terms", double(size.terms)},
                        {"multiply_adds", double(size.multiply_adds)}, {"replay_seconds", r.seconds}};
    }
    out.recording = std::move(rec);
    return out;
  }
  ReductionPath path = ReductionPath::parse(text, family_);
  require_targets(given, path.targets);
  if (o.analytic) {
    const NumericPoint fixed = fixed_symbols(family_, o.point);
    const auto t0 = Clock::now();
    RecordedReduction rr = record_path(family_, recording_point(family_, fixed, 1), o.prime, path);
    const double record_seconds = since(t0);
    out.analytic = reconstruct_recording(family_, rr.recording, fixed, analytic_options(o));
    out.analytic->record_seconds = record_seconds;
    out.analytic->seconds += record_seconds;
    if (o.record) out.recording = std::move(rr.recording);
    return out;
  }
  const NumericPoint point = resolve_point(family_, o.point);
  ReplayResult rep = replay_path(family_, point, o.prime, path, o.threads);
  rep.result.method_stats = {{"jobs", double(path.jobs.size())}, {"replay_seconds", rep.seconds}};
  rep.result.seconds = rep.seconds;
  out.numeric = std::move(rep.result);
  if (o.record) out.recording = record_path(family_, generic_point(), o.prime, path).recording;
  return out;
}

// A reduction that fails at the user's point but succeeds at a random one failed because the point
// is special (a coefficient's denominator vanishes there, d = 0 say): that is bad input, and every
// method says so the same way.
void Engine::refuse_if_degenerate(const ReductionRequest& req, const UnreducedError& failure) const {
  ReductionRequest generic = req;
  generic.point = generic_point();
  generic.check = false;
  generic.options.progress = nullptr;
  try {
    reduce_checked(family_, generic);
  } catch (const std::exception&) {
    return;  // it fails elsewhere too: not the point's fault
  }
  throw std::invalid_argument("point " + format_point(req.point) +
                              " is degenerate for these integrals: they reduce at a generic point but not here (" +
                              failure.what() + "); choose another point");
}

// Recordings are made at a random point: their structure is then the generic one, and a replay
// at any point where no pivot vanishes is right there (the user's point may be special, e.g.
// integer masses where some coefficient cancels).
NumericPoint Engine::generic_point() const { return recording_point(family_, fixed_symbols(family_, ""), 7); }

}  // namespace sailir
