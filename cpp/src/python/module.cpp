// sailir._core: the Python binding of the engine. Python passes a compiled family file (path);
// everything numeric happens in C++.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <random>

#include "device/policy_device.hpp"
#include "recording/lane_program.hpp"
#include "engine/engine.hpp"
#include "scheduler/job_store.hpp"
#include "family/family_source.hpp"
#include "reconstruct/reconstruct.hpp"
#include "recording/replay.hpp"
#include "family/point.hpp"
#include "laporta/checked_reduction.hpp"
#include "laporta/laporta.hpp"
#include "output/writers.hpp"
#include "policy/policy.hpp"
#include "scheduler/learned_reduction.hpp"
#include "scheduler/request_checks.hpp"
#include "policy/policy_kernels.hpp"
#include "search/reduction_state.hpp"
#include "training/expert_data.hpp"
#include "training/policy_evaluation.hpp"
#include "training/scramble.hpp"

namespace py = pybind11;
using namespace sailir;

namespace {

std::vector<Integral> parse_all(const std::vector<std::string>& texts, const FamilyDef& family) {
  std::vector<Integral> out;
  for (auto& t : texts) out.push_back(parse_family_integral(family, t));
  return out;
}

std::vector<std::vector<int>> powers(const std::vector<Integral>& xs, int n) {
  std::vector<std::vector<int>> out;
  for (auto& x : xs) out.emplace_back(x.a.begin(), x.a.begin() + n);
  return out;
}

// A point value as the JSON output has it: an int when integral, else the fraction's text.
py::object point_value(const std::string& v) {
  if (v.find('/') == std::string::npos) return py::int_(py::str(v));
  return py::str(v);
}

py::dict point_dict(const NumericPoint& point) {
  py::dict d;
  for (auto& [sym, value] : point) d[py::str(sym)] = point_value(value);
  return d;
}

py::dict stats_dict(const ReductionResult& r) {
  py::dict st;
  if (r.method_stats.empty()) {
    st["seeds"] = r.stats.seeds;
    st["equations"] = r.stats.equations;
    st["unknowns"] = r.stats.unknowns;
    st["pivots"] = r.stats.pivots;
    st["sectors_solved"] = r.stats.sectors_solved;
    st["widenings"] = r.stats.widenings;
  }
  for (auto& [k, v] : r.method_stats) {
    if (v == static_cast<double>(static_cast<long long>(v))) st[py::str(k)] = static_cast<long long>(v);
    else st[py::str(k)] = v;
  }
  st["seconds"] = r.seconds;
  return st;
}

// The result as a dict with the fields (and spellings) of sailir-reduce's JSON.
py::dict head_dict(const FamilyDef& f, const std::string& method) {
  py::dict d;
  d["family"] = f.name;
  d["family_hash"] = f.hash;
  d["method"] = method;
  return d;
}

py::dict numeric_dict(const FamilyDef& f, const std::string& method, const ReductionResult& r, std::optional<bool> verified) {
  py::dict d = head_dict(f, method);
  d["prime"] = r.prime;
  d["point"] = point_dict(r.point);
  d["masters"] = powers(r.masters, f.n);
  py::dict reductions;
  for (std::size_t t = 0; t < r.targets.size(); ++t) {
    py::dict row;
    for (auto [k, v] : r.coefficients[t]) row[py::str(format_integral(r.masters[k], f.n))] = v;
    reductions[py::str(format_integral(r.targets[t], f.n))] = row;
  }
  d["reductions"] = reductions;
  d["check_prime"] = r.check_prime ? py::object(py::int_(r.check_prime)) : py::object(py::none());
  d["warnings"] = r.warnings;
  if (verified) d["verified"] = *verified;
  d["stats"] = stats_dict(r);
  return d;
}

py::dict analytic_dict(const FamilyDef& f, const std::string& method, const AnalyticResult& r) {
  py::dict d = head_dict(f, method);
  d["analytic"] = true;
  d["symbols"] = r.symbols;
  d["point"] = point_dict(r.fixed);
  d["masters"] = powers(r.masters, f.n);
  py::dict reductions;
  for (std::size_t t = 0; t < r.targets.size(); ++t) {
    py::dict row;
    for (std::size_t m = 0; m < r.masters.size(); ++m)
      if (r.coefficients[t][m] != "0") row[py::str(format_integral(r.masters[m], f.n))] = r.coefficients[t][m];
    reductions[py::str(format_integral(r.targets[t], f.n))] = row;
  }
  d["reductions"] = reductions;
  d["warnings"] = py::list();
  py::dict st;
  st["probes"] = r.probes;
  st["primes"] = r.primes;
  st["probe_seconds"] = r.probe_seconds;
  st["seconds_per_probe"] = r.seconds_per_probe;
  st["device"] = r.device;
  st["device_notice"] = r.device_notice;
  st["record_seconds"] = r.record_seconds;
  st["equations"] = r.size.equations;
  st["terms"] = r.size.terms;
  st["multiply_adds"] = r.size.multiply_adds;
  st["seconds"] = r.seconds;
  d["stats"] = st;
  return d;
}

py::dict result_dict(const FamilyDef& f, EngineResult& res) {
  return res.analytic ? analytic_dict(f, res.method, *res.analytic) : numeric_dict(f, res.method, res.numeric, res.verified);
}

// memory_per_worker, memo_memory, memory_limit (sizes as "32M" or bytes) and checkpoint (a
// directory), as sailir.reduce passes them.
void memory_options(const py::dict& memory, EngineOptions& o) {
  auto size = [&](const char* key, std::size_t& out) {
    if (memory.contains(key) && !memory[key].is_none()) out = parse_size(py::str(memory[key]));
  };
  size("memory_per_worker", o.learned.memory_per_worker);
  size("memo_memory", o.learned.memo_memory);
  size("memory_limit", o.memory_limit);
  if (memory.contains("checkpoint") && !memory["checkpoint"].is_none())
    o.learned.checkpoint = py::str(memory["checkpoint"]);
}

EngineOptions engine_options(std::uint64_t prime, const std::string& point,
                             const std::optional<std::vector<std::string>>& masters, bool check, int r_extra,
                             int s_extra, const std::string& method, const std::string& policy,
                             std::optional<std::uint64_t> policy_seed, int beam_width, int threads, bool verify,
                             bool analytic, long long max_probes, bool record, const py::dict& memory) {
  check_range("max_probes", max_probes, 1, 1000000000);
  EngineOptions o;
  memory_options(memory, o);
  o.prime = prime;
  o.point = point;
  o.masters = masters;
  o.check = check;
  o.r_extra = r_extra;
  o.s_extra = s_extra;
  o.method = method;
  o.policy = policy;
  o.policy_seed = policy_seed;
  o.learned.beam.width = beam_width;
  o.threads = threads;
  o.learned.verify = verify;
  o.analytic = analytic;
  o.max_probes = static_cast<std::size_t>(max_probes);
  o.record = record;
  return o;
}

// (result dict, recording text or None): the engine's façade, with the GIL released while it works.
py::tuple reduce(const std::string& family_file, const std::vector<std::string>& integrals, std::uint64_t prime,
                 const std::string& point, const std::optional<std::vector<std::string>>& masters, bool check,
                 int r_extra, int s_extra, const std::string& method, const std::string& policy,
                 std::optional<std::uint64_t> policy_seed, int beam_width, int threads, bool verify, bool analytic,
                 long long max_probes, bool record, const std::string& replay_text, const py::object& runner,
                 const py::dict& memory, bool symmetries, const std::string& ranking, const std::string& device) {
  const Engine engine = Engine::load(family_file);
  EngineOptions o = engine_options(prime, point, masters, check, r_extra, s_extra, method, policy, policy_seed,
                                   beam_width, threads, verify, analytic, max_probes, record, memory);
  o.symmetries = symmetries;
  o.learned.beam.ranking = parse_beam_ranking(ranking);
  o.device = parse_device(device);
  if (!runner.is_none())  // probes go to Python (a Dask cluster); it gets the GIL only for that
    o.runner = [runner](const std::string& rec, u64 p, const std::vector<std::vector<u64>>& points,
                        std::vector<std::vector<u64>>& values) {
      py::gil_scoped_acquire gil;
      values = runner(rec, p, points).cast<std::vector<std::vector<u64>>>();
    };
  EngineResult res;
  {
    py::gil_scoped_release release;
    res = replay_text.empty() ? engine.reduce(integrals, o) : engine.replay(replay_text, integrals, o);
  }
  py::object rec = res.recording && record ? py::object(py::str(res.recording->to_text())) : py::object(py::none());
  return py::make_tuple(result_dict(engine.family(), res), rec);
}

// The coefficients of a recording at many points modulo one prime (rows: points, values in the
// family's symbol order), on `threads` threads: the probes of a reconstruction, e.g. a batch of
// them on a Dask worker. Rows where a pivot vanishes come back empty.
std::vector<std::vector<std::uint64_t>> replay_points(const std::string& family_file, const std::string& recording_text,
                                                      std::uint64_t prime,
                                                      const std::vector<std::vector<std::uint64_t>>& points,
                                                      int threads) {
  const FamilyDef family = load_family(family_file);
  const Recording rec = Recording::parse(recording_text, family);
  n_check_prime(prime);
  check_range("threads", threads, 1, RequestLimits::max_threads);
  for (auto& p : points)
    if (p.size() != family.symbols.size()) throw std::invalid_argument("replay_points: a point has the wrong size");
  std::vector<std::vector<std::uint64_t>> values;
  py::gil_scoped_release release;
  replay_many(family, rec, prime, points, values, threads);
  return values;
}

// Each mapped sector with its target and line permutation, as the compiled family has them.
py::list sector_mappings(const FamilyDef& family) {
  py::list out;
  for (const SymmetryDef& s : family.symmetries) {
    if (s.source == s.target) continue;
    py::dict lines;
    for (int j = 0; j < family.n; ++j)
      if (s.source >> j & 1)
        for (int m = 0; m < family.n; ++m)
          if (s.coefs[j][m] == "1") lines[py::int_(j + 1)] = m + 1;
    py::dict d;
    d["sector"] = s.source;
    d["target"] = s.target;
    d["lines"] = lines;
    out.append(d);
  }
  return out;
}

py::dict sectors(const std::string& family_file, std::uint64_t prime, const std::string& point,
                 const std::optional<std::vector<std::string>>& masters, bool symmetries,
                 const std::string& memory_limit) {
  FamilyDef family = load_family(family_file);
  const NumericPoint pt = resolve_point(family, point);
  LaportaReducer reducer(family, pt, prime, masters ? parse_all(*masters, family) : std::vector<Integral>{});
  py::dict d;
  py::dict values;  // the point the structure was found at (random where nobody gave a value)
  for (auto& [sym, value] : pt) values[py::str(sym)] = value;
  d["point"] = values;
  const std::vector<SectorId> nonzero = reducer.nonzero_sectors();
  d["nonzero_sectors"] = nonzero;
  std::vector<SectorId> unique;
  for (SectorId s : nonzero)
    if (std::none_of(family.symmetries.begin(), family.symmetries.end(),
                     [s](const SymmetryDef& m) { return m.source == s && m.target != s; }))
      unique.push_back(s);
  d["unique_sectors"] = unique;
  d["mappings"] = sector_mappings(family);
  d["notes"] = reducer.basis_notes();
  reducer.check_basis();  // throws DependentBasisError (an UnreducedError) naming the master
  d["basis_checked"] = true;
  d["masters_without_symmetries"] = powers(reducer.masters(), family.n);
  const std::size_t listing = memory_limit.empty() ? kListingMemory : parse_size(memory_limit);
  UniqueMasters kept =
      symmetries ? unique_masters(family, reducer, pt, listing) : UniqueMasters{reducer.masters(), false};
  d["masters"] = powers(kept.masters, family.n);
  d["masters_upper_bound"] = kept.upper_bound;
  return d;
}

// A family prepared for policies: the family definition kept alive beside its context.
struct PolicyFamily {
  FamilyDef family;
  std::unique_ptr<FamilyContext> ctx;
};

std::shared_ptr<PolicyFamily> policy_family(const std::string& family_file, std::uint64_t prime,
                                            const std::string& point,
                                            const std::optional<std::vector<std::string>>& masters) {
  n_check_prime(prime);
  auto pf = std::make_shared<PolicyFamily>();
  pf->family = load_family(family_file);
  NumericPoint pt = resolve_point(pf->family, point);
  std::vector<Integral> preferred = masters ? parse_all(*masters, pf->family) : pf->family.masters;
  py::gil_scoped_release release;
  pf->ctx = std::make_unique<FamilyContext>(pf->family, pt, prime, std::move(preferred));
  return pf;
}

// Hands a vector to NumPy without copying: the array owns it through a capsule.
template <class T>
py::array_t<T> to_array(std::vector<T>& v, py::ssize_t cols = 0) {
  auto owned = std::make_unique<std::vector<T>>(std::move(v));
  py::capsule free_when_done(owned.get(), [](void* p) { std::unique_ptr<std::vector<T>>(static_cast<std::vector<T>*>(p)); });
  std::vector<T>* data = owned.release();  // the capsule owns it now
  const auto size = static_cast<py::ssize_t>(data->size());
  if (cols == 0) return py::array_t<T>({size}, data->data(), free_when_done);
  return py::array_t<T>({size / cols, cols}, data->data(), free_when_done);
}

// A batch of samples as NumPy arrays (the scramble shards' layout).
py::dict batch_arrays(ScrambleBatch& b, int n) {
  const FeatureDims dims(n);
  py::dict a;
  a["traj_index"] = to_array(b.traj_index);
  a["traj_sector"] = to_array(b.traj_sector);
  a["traj_scramble_steps"] = to_array(b.traj_scramble_steps);
  a["traj_samples"] = to_array(b.traj_samples);
  a["start_terms"] = to_array(b.start_terms);
  a["scrambled_terms"] = to_array(b.scrambled_terms);
  a["expr_powers"] = to_array(b.expr_powers, n);
  a["expr_coefs"] = to_array(b.expr_coefs);
  a["n_terms"] = to_array(b.n_terms);
  a["n_table"] = to_array(b.n_table);
  a["n_actions"] = to_array(b.n_actions);
  a["label"] = to_array(b.label);
  a["label_op"] = to_array(b.label_op);
  a["label_seed"] = to_array(b.label_seed, n);
  a["target"] = to_array(b.features.target, dims.target);
  a["terms"] = to_array(b.features.terms, dims.term);
  a["table"] = to_array(b.features.table, dims.table);
  a["actions"] = to_array(b.features.actions, dims.action);
  a["ops"] = to_array(b.features.ops);
  return a;
}

py::tuple generate_scrambles(const PolicyFamily& pf, std::uint64_t seed, std::int64_t first, std::int64_t count,
                             int threads, int min_steps, int max_steps, int max_dots, int max_numerators) {
  ScrambleOptions opt{min_steps, max_steps, max_dots, max_numerators};
  ScrambleBatch b;
  ScrambleStats st;
  {
    ScrambleGenerator gen(*pf.ctx, opt);
    py::gil_scoped_release release;
    b = gen.generate(seed, first, count, threads, &st);
  }
  py::dict s;
  s["attempts"] = st.attempts;
  s["kept"] = st.kept;
  s["stuck"] = st.stuck;
  s["mismatched"] = st.mismatched;
  s["samples"] = st.samples;
  return py::make_tuple(batch_arrays(b, pf.ctx->n()), s);
}

// Rollouts as dicts: policy ("" shipped, a file, uniform, random), policy_seed, ranking, width.
std::vector<ExpertRollout> expert_rollouts(const py::list& specs) {
  std::vector<ExpertRollout> out;
  for (const py::handle& h : specs) {
    const py::dict d = py::cast<py::dict>(h);
    ExpertRollout r;
    if (d.contains("policy")) r.policy = py::cast<std::string>(d["policy"]);
    if (d.contains("policy_seed") && !d["policy_seed"].is_none()) r.policy_seed = py::cast<std::uint64_t>(d["policy_seed"]);
    if (d.contains("ranking")) r.ranking = parse_beam_ranking(py::cast<std::string>(d["ranking"]));
    if (d.contains("width")) r.width = py::cast<int>(d["width"]);
    check_range("width", r.width, 1, RequestLimits::max_beam_width);
    out.push_back(std::move(r));
  }
  if (out.empty()) throw std::invalid_argument("expert data needs at least one rollout");
  return out;
}

py::tuple expert_samples_dict(const PolicyFamily& pf, const std::vector<std::string>& integrals, const py::list& specs,
                              int threads, std::size_t max_table_rows) {
  check_range("threads", threads, 1, RequestLimits::max_threads);
  const std::vector<ExpertRollout> rollouts = expert_rollouts(specs);
  const Engine engine(pf.family);
  ExpertStats st;
  ScrambleBatch b;
  {
    py::gil_scoped_release release;
    b = expert_samples(engine, *pf.ctx, integrals, rollouts, threads, max_table_rows, st);
  }
  py::dict s;
  s["rollout_steps"] = st.rollout_steps;
  s["rollout_failures"] = st.rollout_failures;
  s["rollout_seconds"] = st.rollout_seconds;
  s["jobs"] = st.jobs;
  s["expert_steps"] = st.expert_steps;
  s["samples"] = st.samples;
  s["skipped_samples"] = st.skipped_samples;
  return py::make_tuple(batch_arrays(b, pf.ctx->n()), s);
}

Integral to_integral(const std::vector<int>& powers, int n) {
  if (static_cast<int>(powers.size()) != n)
    throw std::invalid_argument("an integral of this family has " + std::to_string(n) + " powers, got " +
                                std::to_string(powers.size()));
  return integral_from_powers(powers);
}

// The reduction state, for tests and replays from Python (never in a hot loop).
struct PyState {
  std::shared_ptr<PolicyFamily> pf;
  ReductionState state;

  PyState(std::shared_ptr<PolicyFamily> f, const std::vector<std::pair<std::vector<int>, std::uint64_t>>& terms)
      : pf(std::move(f)), state(*pf->ctx, make_expression(*pf->ctx, terms)) {}

  static Expression make_expression(const FamilyContext& ctx,
                                    const std::vector<std::pair<std::vector<int>, std::uint64_t>>& terms) {
    std::vector<Expression::Entry> entries;
    for (auto& [p, c] : terms) entries.emplace_back(to_integral(p, ctx.n()), c % ctx.modulus().n);
    return Expression::from_terms(entries, ctx.modulus());
  }
  std::vector<std::pair<std::vector<int>, std::uint64_t>> expression() const {
    std::vector<std::pair<std::vector<int>, std::uint64_t>> out;
    for (auto& [x, c] : state.expression().terms())
      out.emplace_back(std::vector<int>(x.a.begin(), x.a.begin() + pf->ctx->n()), c);
    return out;
  }
  std::optional<std::vector<int>> target() const {
    auto t = state.target();
    if (!t) return std::nullopt;
    return std::vector<int>(t->a.begin(), t->a.begin() + pf->ctx->n());
  }
  std::vector<std::tuple<int, std::vector<int>, bool>> candidates(const std::vector<int>& target) const {
    std::vector<std::tuple<int, std::vector<int>, bool>> out;
    for (const Candidate& c : state.candidates(to_integral(target, pf->ctx->n())))
      out.emplace_back(c.action.op, std::vector<int>(c.action.seed.a.begin(), c.action.seed.a.begin() + pf->ctx->n()),
                       c.action.direct);
    return out;
  }
  bool apply(const std::vector<int>& target, int op, const std::vector<int>& seed) {
    if (op < 0 || op >= pf->ctx->identities().size()) return false;
    return state.apply(to_integral(target, pf->ctx->n()), Action{op, to_integral(seed, pf->ctx->n()), true});
  }
};


// ---- The C++ policy runtime, for tests and benchmarks: the padded inputs of the ONNX graph in,
// the runtime's scores out (the engine itself never goes through Python for this). ----

// A policy file, or "builtin:NAME" for the policy embedded for a built-in family.
Policy load_policy(const std::string& spec) {
  if (spec.starts_with("builtin:")) return Policy::builtin(spec.substr(8));
  return Policy::load_file(spec);
}

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IndexArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

void expect_shape(const py::array& a, const char* name, std::vector<py::ssize_t> shape) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (std::size_t i = 0; ok && i < shape.size(); ++i) ok = shape[i] < 0 || a.shape(i) == shape[i];
  if (!ok) throw std::invalid_argument(std::string("policy input ") + name + " has the wrong shape");
}

// Scores [B, A] of padded inputs (model.INPUTS order): rows with mask > 0 are the sample's rows;
// padded actions get model.MASKED (-1e9), like the ONNX graph.
py::array_t<float> policy_logits(const std::string& path, const FloatArray& target, const FloatArray& terms,
                                 const FloatArray& terms_mask, const FloatArray& table, const FloatArray& table_mask,
                                 const IndexArray& ops, const FloatArray& actions, const FloatArray& actions_mask,
                                 int threads) {
  Policy policy = load_policy(path);
  expect_shape(target, "target", {-1, -1});
  const py::ssize_t B = target.shape(0), Fg = target.shape(1);
  expect_shape(terms, "terms", {B, -1, -1});
  expect_shape(table, "table", {B, -1, -1});
  expect_shape(actions, "actions", {B, -1, -1});
  const py::ssize_t T = terms.shape(1), Ft = terms.shape(2), K = table.shape(1), Fk = table.shape(2);
  const py::ssize_t A = actions.shape(1), Fa = actions.shape(2);
  expect_shape(terms_mask, "terms_mask", {B, T});
  expect_shape(table_mask, "table_mask", {B, K});
  expect_shape(ops, "ops", {B, A});
  expect_shape(actions_mask, "actions_mask", {B, A});
  PolicyBatch batch;
  auto gather = [](const float* rows, const float* mask, py::ssize_t n, py::ssize_t width, std::vector<float>& out) {
    int count = 0;
    for (py::ssize_t i = 0; i < n; ++i)
      if (mask[i] > 0) {
        out.insert(out.end(), rows + i * width, rows + (i + 1) * width);
        ++count;
      }
    return count;
  };
  for (py::ssize_t b = 0; b < B; ++b) {
    batch.rows.target.insert(batch.rows.target.end(), target.data() + b * Fg, target.data() + (b + 1) * Fg);
    batch.terms.push_back(gather(terms.data() + b * T * Ft, terms_mask.data() + b * T, T, Ft, batch.rows.terms));
    batch.table.push_back(gather(table.data() + b * K * Fk, table_mask.data() + b * K, K, Fk, batch.rows.table));
    batch.actions.push_back(gather(actions.data() + b * A * Fa, actions_mask.data() + b * A, A, Fa, batch.rows.actions));
    for (py::ssize_t a = 0; a < A; ++a)
      if (actions_mask.data()[b * A + a] > 0) {
        const std::int64_t op = ops.data()[b * A + a];
        if (op < 0 || op > INT32_MAX) throw std::invalid_argument("policy input ops has an out-of-range index");
        batch.rows.ops.push_back(static_cast<std::int32_t>(op));
      }
  }
  std::vector<float> scores;
  {
    py::gil_scoped_release release;
    policy.logits(batch, scores, threads);
  }
  py::array_t<float> out({B, A});
  float* o = out.mutable_data();
  std::size_t at = 0;
  for (py::ssize_t i = 0; i < B * A; ++i) o[i] = actions_mask.data()[i] > 0 ? scores[at++] : -1.0e9f;
  return out;
}

py::dict policy_info(const std::string& path) {
  Policy policy = load_policy(path);
  py::dict d;
  d["metadata"] = policy.metadata();
  d["family"] = policy.family_name();
  d["parameters"] = policy.parameters();
  d["kernels"] = policy_kernels::isa();
  return d;
}

void policy_check(const std::string& path, const PolicyFamily& pf) { load_policy(path).check_compatible(*pf.ctx); }

// An integer of a flat JSON object from the metadata (e.g. "feature_dims").
int json_int(const std::string& json, const std::string& key) {
  const std::size_t at = json.find("\"" + key + "\"");
  const std::size_t colon = at == std::string::npos ? at : json.find(':', at);
  if (colon == std::string::npos) throw std::invalid_argument("policy metadata lacks " + key);
  return std::stoi(json.substr(colon + 1));
}

// Seconds per logits() call for a batch of random features of the given sizes, built and timed
// in C++ (mean over `repeats` calls after a warm-up).
double policy_benchmark(const std::string& path, int states, int actions, int terms, int table_rows, int repeats,
                        int threads, const std::string& device) {
  if (states < 1 || actions < 0 || terms < 0 || table_rows < 0 || repeats < 1)
    throw std::invalid_argument("policy_benchmark: sizes must be >= 0 (states, repeats >= 1)");
  Policy policy = load_policy(path);
  const std::string& dims = policy.metadata().at("feature_dims");
  const int fg = json_int(dims, "target"), ft = json_int(dims, "term"), fk = json_int(dims, "table"),
            fa = json_int(dims, "action"), n_ops = std::stoi(policy.metadata().at("ops"));
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  PolicyBatch b;
  auto fill = [&](std::vector<float>& v, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) v.push_back(normal(rng));
  };
  for (int s = 0; s < states; ++s) {
    fill(b.rows.target, fg);
    fill(b.rows.terms, std::size_t(terms) * ft);
    fill(b.rows.table, std::size_t(table_rows) * fk);
    fill(b.rows.actions, std::size_t(actions) * fa);
    for (int a = 0; a < actions; ++a) b.rows.ops.push_back(static_cast<std::int32_t>(rng() % n_ops));
    b.terms.push_back(terms);
    b.table.push_back(table_rows);
    b.actions.push_back(actions);
  }
  const bool tf32 = device == "cuda-tf32";
  PolicyScorer scorer(policy, parse_device(tf32 ? "cuda" : device), threads,
                      tf32 ? ScorePrecision::tf32 : ScorePrecision::fp32);
  py::gil_scoped_release release;
  std::vector<float> out;
  for (int i = 0; i < 3; ++i) scorer.logits(b, out);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) scorer.logits(b, out);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / repeats;
}

// Replays a recording at `probes` random points modulo the default prime on a device, timed in
// C++ (best of `repeats`).
py::dict probe_benchmark(const std::string& family_file, const std::string& recording_text, const std::string& device,
                         std::size_t probes, int threads, int repeats) {
  check_range("threads", threads, 1, RequestLimits::max_threads);
  check_range("repeats", repeats, 1, 1000);
  const FamilyDef family = load_family(family_file);
  const Recording rec = Recording::parse(recording_text, family);
  std::mt19937_64 rng(1);
  std::vector<std::vector<u64>> points(probes, std::vector<u64>(family.symbols.size()));
  for (auto& p : points)
    for (u64& v : p) v = rng() % kDefaultPrime;
  py::gil_scoped_release release;
  // cpu-lanes: the GPU's lane code, run on the CPU's threads.
  std::optional<LaneProgram> lanes;
  if (device == "cpu-lanes" && !(lanes = compile_lanes(family, rec)))
    throw std::invalid_argument("the recording's identities are not affine in the seed powers");
  ProbeDevice dev(lanes ? Device::cpu : parse_device(device), family, rec, threads,
                  static_cast<std::uint32_t>(std::min<std::size_t>(probes, 65536)));
  std::vector<std::vector<u64>> values;
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (lanes)
      replay_many(family, rec, kDefaultPrime, points, values, threads, &*lanes);
    else
      dev.replay(kDefaultPrime, points, values);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::size_t bad = 0;
  for (auto& v : values) bad += v.empty();
  py::gil_scoped_acquire gil;
  py::dict d;
  d["device"] = dev.description();
  d["notice"] = dev.notice();
  d["seconds"] = best;
  d["probes"] = probes;
  d["bad"] = bad;
  d["multiply_adds"] = rec.size().multiply_adds;
  return d;
}

py::dict device_status() {
  std::string why;
  const std::string name = cuda_device_name(why);
  py::dict d;
  d["cuda_built"] = cuda_built();
  d["cuda_device"] = name;
  d["why_not"] = why;
  return d;
}

// `sailir evaluate` without torch: the policy ("" the family's shipped one, "uniform", "random"
// with policy_seed, else a file) on fresh scrambles, scored by the C++ runtime.
py::dict evaluate_policy_dict(const PolicyFamily& pf, const std::string& policy_spec,
                              std::optional<std::uint64_t> policy_seed, std::uint64_t seed, std::int64_t scrambles,
                              int threads, int min_steps, int max_steps, int max_dots, int max_numerators) {
  check_range("threads", threads, 1, RequestLimits::max_threads);
  const Policy policy = Policy::choose(policy_spec, policy_seed, pf.family.name, pf.family.hash);
  policy.check_compatible(*pf.ctx, pf.family.name);  // the message names the family, as Python's check does
  PolicyEvaluation ev;
  {
    py::gil_scoped_release release;
    ev = sailir::evaluate_policy(*pf.ctx, policy, seed, scrambles, threads,
                                 ScrambleOptions{min_steps, max_steps, max_dots, max_numerators});
  }
  py::dict d;
  d["attempts"] = ev.attempts;
  d["trajectories"] = ev.trajectories;
  d["samples"] = ev.samples;
  d["top1"] = ev.top1;
  d["top5"] = ev.top5;
  d["loss"] = ev.loss;
  d["ranking_top1"] = ev.ranking_top1;
  d["differs_from_ranking"] = ev.differs_from_ranking;
  d["generate_seconds"] = ev.generate_seconds;
  d["score_seconds"] = ev.score_seconds;
  d["ranking_seconds"] = ev.ranking_seconds;
  return d;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "sailir native engine";
  static py::exception<FamilyFileError> family_error(m, "FamilyFileError", PyExc_ValueError);
  static py::exception<UnreducedError> unreduced_error(m, "UnreducedError", PyExc_RuntimeError);
  static py::exception<PolicyFileError> policy_file_error(m, "PolicyFileError", PyExc_ValueError);
  static py::exception<PolicyMismatchError> policy_mismatch_error(m, "PolicyMismatchError", PyExc_ValueError);
  static py::exception<RecordingFileError> recording_file_error(m, "RecordingFileError", PyExc_ValueError);
  static py::exception<RecordingError> recording_error(m, "RecordingError", PyExc_RuntimeError);
  static py::exception<NotConvergedError> not_converged_error(m, "NotConvergedError", PyExc_RuntimeError);
  static py::exception<CheckpointError> checkpoint_error(m, "CheckpointError", PyExc_ValueError);
  static py::exception<MemoryLimitError> memory_limit_error(m, "MemoryLimitError", PyExc_MemoryError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FamilyFileError& e) {
      py::set_error(family_error, e.what());
    } catch (const UnreducedError& e) {
      py::set_error(unreduced_error, e.what());
    } catch (const PolicyFileError& e) {
      py::set_error(policy_file_error, e.what());
    } catch (const PolicyMismatchError& e) {
      py::set_error(policy_mismatch_error, e.what());
    } catch (const RecordingFileError& e) {
      py::set_error(recording_file_error, e.what());
    } catch (const RecordingError& e) {
      py::set_error(recording_error, e.what());
    } catch (const NotConvergedError& e) {
      py::set_error(not_converged_error, e.what());
    } catch (const CheckpointError& e) {
      py::set_error(checkpoint_error, e.what());
    } catch (const MemoryLimitError& e) {
      py::set_error(memory_limit_error, e.what());
    }
  });
  m.attr("DEFAULT_PRIME") = kDefaultPrime;
  const EngineOptions defaults;
  m.def("reduce", &reduce, py::arg("family_file"), py::arg("integrals"), py::arg("prime") = defaults.prime,
        py::arg("point") = "", py::arg("masters") = std::nullopt, py::arg("check") = defaults.check,
        py::arg("r_extra") = defaults.r_extra, py::arg("s_extra") = defaults.s_extra,
        py::arg("method") = defaults.method, py::arg("policy") = "", py::arg("policy_seed") = std::nullopt,
        py::arg("beam_width") = BeamOptions{}.width,
        py::arg("threads") = defaults.threads, py::arg("verify") = false, py::arg("analytic") = false,
        py::arg("max_probes") = defaults.max_probes, py::arg("record") = false, py::arg("replay") = "", py::arg("runner") = py::none(),
        py::arg("memory") = py::dict(), py::arg("symmetries") = defaults.symmetries, py::arg("ranking") = "auto",
        py::arg("device") = "auto",
        "Reduce integrals through the engine's facade (or replay a recording's text): (result dict, recording text or None).");
  m.def("replay_points", &replay_points, py::arg("family_file"), py::arg("recording"), py::arg("prime"),
        py::arg("points"), py::arg("threads") = 1,
        "Coefficients (targets x masters, row-major) of a recording at each point modulo prime; [] where a pivot vanishes.");
  m.attr("DEFAULT_THREADS") = defaults.threads;
  m.attr("DEFAULT_MAX_PROBES") = defaults.max_probes;
  m.def("integral_list", &integral_list, py::arg("text"),
        "The integrals written in a list or master file (one per line with # comments, or a Mathematica list).");
  m.def("sectors", &sectors, py::arg("family_file"), py::arg("prime") = kDefaultPrime, py::arg("point") = "",
        py::arg("masters") = std::nullopt, py::arg("symmetries") = true, py::arg("memory_limit") = "",
        "Nonzero and unique sectors, sector mappings and master integrals of a family.");
  py::class_<PolicyFamily, std::shared_ptr<PolicyFamily>>(m, "PolicyFamily",
                                                         "A family at one prime and point, prepared for policies.")
      .def(py::init(&policy_family), py::arg("family_file"), py::arg("prime") = kDefaultPrime, py::arg("point") = "",
           py::arg("masters") = std::nullopt)
      .def_property_readonly("n", [](const PolicyFamily& p) { return p.ctx->n(); })
      .def_property_readonly("name", [](const PolicyFamily& p) { return p.family.name; })
      .def_property_readonly("hash", [](const PolicyFamily& p) { return p.ctx->family_hash(); })
      .def_property_readonly("identities_version", [](const PolicyFamily& p) { return p.family.identities_version; })
      .def_property_readonly("prime", [](const PolicyFamily& p) { return p.ctx->modulus().n; })
      .def_property_readonly("ops", [](const PolicyFamily& p) { return p.ctx->identities().size(); })
      .def_property_readonly("master_sectors", [](const PolicyFamily& p) { return p.ctx->master_sectors(); })
      .def_property_readonly("masters", [](const PolicyFamily& p) { return powers(p.ctx->masters(), p.ctx->n()); })
      .def_property_readonly("feature_spec", [](const PolicyFamily& p) { return feature_spec(p.ctx->n()); })
      .def_property_readonly("feature_dims", [](const PolicyFamily& p) {
        FeatureDims d(p.ctx->n());
        py::dict out;
        out["target"] = d.target;
        out["term"] = d.term;
        out["table"] = d.table;
        out["action"] = d.action;
        return out;
      });
  m.attr("FEATURES_VERSION") = kFeaturesVersion;
  m.def("generate_scrambles", &generate_scrambles, py::arg("family"), py::arg("seed"), py::arg("first"),
        py::arg("count"), py::arg("threads") = 1, py::arg("min_steps") = 5, py::arg("max_steps") = 25,
        py::arg("max_dots") = 4, py::arg("max_numerators") = 4,
        "Scramble/unscramble trajectories first..first+count-1 of stream `seed`: (arrays, stats).");
  m.def("expert_samples", &expert_samples_dict, py::arg("family"), py::arg("integrals"), py::arg("rollouts"),
        py::arg("threads") = 1, py::arg("max_table_rows") = 256,
        "Expert-iteration samples: each integral reduced under each rollout (dicts: policy, policy_seed, "
        "ranking, width); every job's shortest path replayed as labelled samples: (arrays, stats).");
  py::class_<PyState>(m, "ReductionState", "The shared reduction state (expression and substitution table).")
      .def(py::init<std::shared_ptr<PolicyFamily>, const std::vector<std::pair<std::vector<int>, std::uint64_t>>&>(),
           py::arg("family"), py::arg("terms"))
      .def("expression", &PyState::expression)
      .def("target", &PyState::target)
      .def("candidates", &PyState::candidates, py::arg("target"))
      .def("apply", &PyState::apply, py::arg("target"), py::arg("op"), py::arg("seed"));
  m.def("is_prime", &n_is_prime, "Deterministic primality test for 64-bit integers.");
  // ---- The C++ policy runtime (tests and benchmarks) ----
  m.def("policy_logits", &policy_logits, py::arg("policy_path"), py::arg("target"), py::arg("terms"),
        py::arg("terms_mask"), py::arg("table"), py::arg("table_mask"), py::arg("ops"), py::arg("actions"),
        py::arg("actions_mask"), py::arg("threads") = 1,
        "Scores [B, A] of the C++ policy runtime for the padded inputs of the ONNX graph (-1e9 where masked). "
        "policy_path: a file or builtin:NAME.");
  m.def("policy_info", &policy_info, py::arg("policy_path"),
        "Metadata (sailir.* keys without the prefix), family, parameter count and kernel instruction set.");
  m.def("policy_check", &policy_check, py::arg("policy_path"), py::arg("family"),
        "Raises PolicyMismatchError unless the policy fits the family (hash, identities, features).");
  m.def("policy_benchmark", &policy_benchmark, py::arg("policy_path"), py::arg("states"), py::arg("actions"),
        py::arg("terms"), py::arg("table_rows"), py::arg("repeats"), py::arg("threads") = 1, py::arg("device") = "cpu",
        "Seconds per policy evaluation of a random batch of the given sizes, timed in C++ (device: cpu, cuda or "
        "cuda-tf32).");
  m.def("probe_benchmark", &probe_benchmark, py::arg("family_file"), py::arg("recording"), py::arg("device"),
        py::arg("probes"), py::arg("threads") = 1, py::arg("repeats") = 1,
        "Replays a recording at `probes` random points on a device (cpu, cuda, or cpu-lanes: the GPU's lane code on "
        "the CPU; cuda: up to `probes` lanes per launch): the best of `repeats` timings, the device and the bad probes.");
  m.def("device_status", &device_status, "Whether this build has CUDA support and which device it would use.");
  m.def("evaluate_policy", &evaluate_policy_dict, py::arg("family"), py::arg("policy") = "",
        py::arg("policy_seed") = std::nullopt, py::arg("seed") = 2026, py::arg("scrambles") = 1000,
        py::arg("threads") = 1, py::arg("min_steps") = 5, py::arg("max_steps") = 25, py::arg("max_dots") = 4,
        py::arg("max_numerators") = 4,
        "Top-1/top-5, loss and disagreement with the weight ranking of a policy (a file, '' for the shipped "
        "one, 'uniform' or 'random' with policy_seed) on fresh scrambles, scored by the C++ runtime.");
  m.def("policy_kernels", [] { return std::string(policy_kernels::isa()); },
        "The instruction set of the policy kernels on this CPU (avx512, avx2 or sse2).");
  m.def("policy_use_kernels", [](const std::string& isa) { return policy_kernels::use_isa(isa); }, py::arg("isa"),
        "Selects the policy kernels for another instruction set this CPU supports (benchmarks); False otherwise.");
  m.def("builtin_families", [] {
    std::vector<std::string> out;
    for (auto& [name, text] : builtin_family_files()) out.emplace_back(name);
    return out;
  });
}
