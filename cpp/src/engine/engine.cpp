#include "engine/engine.hpp"

#include <chrono>

#include "family/family_source.hpp"
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

AnalyticOptions analytic_options(const EngineOptions& o) {
  AnalyticOptions a;
  a.threads = o.threads;
  a.max_probes = o.max_probes;
  a.progress = o.progress;
  a.runner = o.runner;
  return a;
}

// The learned method's policy: the caller's, a file, or the one shipped with the family.
class PolicyRef {
 public:
  PolicyRef(const EngineOptions& o, const FamilyDef& family) {
    if (o.loaded_policy) {
      ptr_ = o.loaded_policy;
      return;
    }
    own_ = std::make_unique<Policy>(o.policy.empty() ? Policy::builtin(family.name) : Policy::load_file(o.policy));
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
  if (o.method != "laporta" && o.method != "learned")
    throw std::invalid_argument("unknown method '" + o.method + "' (laporta, learned)");
  n_check_prime(o.prime);
  ReductionRequest req;
  req.threads = o.threads;
  req.options.r_extra = o.r_extra;
  req.options.s_extra = o.s_extra;
  check_request(req, o.method == "learned" ? &o.learned : nullptr);
  check_range("max_probes", static_cast<long long>(o.max_probes), 1, 1000000000);
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

EngineResult Engine::reduce_numeric(const ReductionRequest& req, const EngineOptions& o) const {
  EngineResult out;
  out.method = o.method;
  if (o.method == "laporta") {
    out.numeric = reduce_checked(family_, req);
    if (o.record) out.recording = record_laporta(family_, generic_point(), req.prime, req.preferred, req.targets, req.options).recording;
    return out;
  }
  LearnedResult lr = reduce_learned(family_, req, PolicyRef(o, family_), o.learned);
  out.numeric = learned_output(lr, o.learned.verify);
  if (o.learned.verify) out.verified = lr.verified;
  out.verify_error = lr.verify_error;
  if (o.record) out.recording = record_path(family_, generic_point(), req.prime, lr.path).recording;
  return out;
}

RecordedReduction Engine::record(const ReductionRequest& req, const EngineOptions& o) const {
  if (o.progress) o.progress("recording the " + o.method + " reduction at a random point");
  if (o.method == "laporta")
    return record_laporta(family_, req.point, req.prime, req.preferred, req.targets, req.options);
  ReductionRequest quiet = req;
  quiet.check = false;  // the reconstruction checks every coefficient at fresh probes and primes
  LearnedResult lr = reduce_learned(family_, quiet, PolicyRef(o, family_), o.learned);
  return record_path(family_, req.point, req.prime, lr.path);
}

EngineResult Engine::reduce_analytic(const ReductionRequest& req, const EngineOptions& o) const {
  EngineResult out;
  out.method = o.method;
  const auto t0 = Clock::now();
  RecordedReduction rr = record(req, o);
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
    require_targets(given, rec.target_integrals());
    if (o.analytic) {
      out.analytic = reconstruct_recording(family_, rec, fixed_symbols(family_, o.point), analytic_options(o));
    } else {
      const auto t0 = Clock::now();
      ReductionResult& r = out.numeric;
      r.point = resolve_point(family_, o.point);
      require_generic_point(family_, r.point);
      r.prime = o.prime;
      Replayer replayer(family_, rec);
      std::vector<u64> dense;
      if (!replayer.run(o.prime, point_in_field(r.point, nmod_t{o.prime}), dense, true))
        throw UnreducedError("a pivot of the recording vanishes at this prime and point; choose another point");
      r.masters = rec.master_integrals();
      r.targets = rec.target_integrals();
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
