// The C API (cpp/include/sailir.h) over the internal engine. Every entry point that can fail runs
// its body in `guarded`, which turns each exception into a NULL return plus a thread-local
// one-line message and kind: no exception crosses the C boundary.
#include "sailir.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <optional>

#include "engine/engine.hpp"
#include "scheduler/job_store.hpp"
#include "family/point.hpp"
#include "policy/policy.hpp"
#include "recording/replay.hpp"
#include "search/reduction_state.hpp"

#ifndef SAILIR_VERSION_STRING
#define SAILIR_VERSION_STRING "unknown"
#endif

// The opaque handles. They are created with std::make_unique(...).release() and destroyed with
// delete in the *_free functions: ownership crosses the C boundary as a raw pointer.
struct sailir_family {
  sailir::Engine engine;
  std::string point_spec, point_text;
  sailir::u64 prime = sailir::kDefaultPrime;
  std::optional<std::vector<std::string>> masters;  // nullopt: the family's own basis
  const sailir::FamilyDef& def() const { return engine.family(); }
};

struct sailir_policy {
  sailir::Policy policy;
  std::string family_hash;  // of the family it was checked against
};

struct sailir_recording {
  const sailir::FamilyDef* family;  // of the family handle it was loaded for (outlives it)
  sailir::Recording recording;
  std::vector<std::string> masters, targets;
};

struct sailir_result {
  sailir::u64 prime = 0, check_prime = 0;
  std::vector<std::string> masters, targets, warnings;
  std::vector<std::vector<std::pair<int, sailir::u64>>> coefficients;  // per target, ascending master index
  sailir_stats stats{};
  std::vector<std::pair<std::string, double>> method_stats;
};

using namespace sailir;

namespace {

thread_local std::string t_error;
thread_local sailir_error_kind t_kind = SAILIR_OK;

struct BadInput : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

void set_error(sailir_error_kind kind, const char* what) noexcept {
  t_kind = kind;
  try {
    std::string line = what ? what : "";
    std::replace(line.begin(), line.end(), '\n', ' ');
    std::replace(line.begin(), line.end(), '\r', ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    t_error = line.empty() ? std::string(sailir_error_kind_name(kind)) : std::move(line);
  } catch (...) {
    t_error.clear();  // out of memory: sailir_last_error() then reports that
  }
}

// Runs `body` and maps its exceptions onto error kinds; `failed` is returned on any exception.
template <class F, class R = std::invoke_result_t<F>>
R guarded(F&& body, R failed) noexcept {
  try {
    t_kind = SAILIR_OK;
    t_error.clear();
    return body();
  } catch (const FamilyFileError& e) {
    set_error(SAILIR_ERROR_BAD_INPUT, e.what());
  } catch (const std::invalid_argument& e) {
    set_error(SAILIR_ERROR_BAD_INPUT, e.what());
  } catch (const std::domain_error& e) {  // a point impossible modulo the prime
    set_error(SAILIR_ERROR_BAD_INPUT, e.what());
  } catch (const PolicyFileError& e) {
    set_error(SAILIR_ERROR_BAD_POLICY_FILE, e.what());
  } catch (const PolicyMismatchError& e) {
    set_error(SAILIR_ERROR_POLICY_MISMATCH, e.what());
  } catch (const RecordingFileError& e) {
    set_error(SAILIR_ERROR_BAD_INPUT, e.what());
  } catch (const RecordingError& e) {
    set_error(SAILIR_ERROR_NOT_REDUCED, e.what());
  } catch (const UnreducedError& e) {
    set_error(SAILIR_ERROR_NOT_REDUCED, e.what());
  } catch (const VerificationError& e) {
    set_error(SAILIR_ERROR_NOT_REDUCED, e.what());
  } catch (const CheckpointError& e) {
    set_error(SAILIR_ERROR_BAD_INPUT, e.what());
  } catch (const MemoryLimitError& e) {
    set_error(SAILIR_ERROR_NOT_REDUCED, e.what());
  } catch (const std::bad_alloc&) {
    set_error(SAILIR_ERROR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    set_error(SAILIR_ERROR_INTERNAL, e.what());
  } catch (...) {
    set_error(SAILIR_ERROR_INTERNAL, "unknown internal error");
  }
  return failed;
}

bool given(const char* s) { return s != nullptr && *s != '\0'; }

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw BadInput(std::string("cannot read ") + what + " file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// A masters file as the command line reads it (lists, Kira master files), each integral checked.
std::vector<std::string> read_masters(const FamilyDef& family, const std::string& path) {
  std::vector<std::string> out = integral_list(read_file(path, "masters"));
  for (const std::string& m : out) parse_family_integral(family, m);
  return out;
}

// The method as the integer a C caller stored: in C++, loading an enum outside its enumerators'
// range is undefined, so the bytes are read as the underlying type.
long long method_value(const sailir_options& o) {
  std::underlying_type_t<sailir_method> v;
  static_assert(sizeof v == sizeof o.method);
  std::memcpy(&v, &o.method, sizeof v);
  return static_cast<long long>(v);
}

void check_options(const sailir_options& o) {
  const long long method = method_value(o);
  if (method != SAILIR_METHOD_LAPORTA && method != SAILIR_METHOD_LEARNED)
    throw BadInput("unknown method " + std::to_string(method) + " (SAILIR_METHOD_LAPORTA, SAILIR_METHOD_LEARNED)");
}

std::unique_ptr<sailir_result> make_result(const FamilyDef& family, ReductionResult&& r) {
  auto out = std::make_unique<sailir_result>();
  out->prime = r.prime;
  out->check_prime = r.check_prime;
  for (const Integral& m : r.masters) out->masters.push_back(format_integral(m, family.n));
  for (const Integral& t : r.targets) out->targets.push_back(format_integral(t, family.n));
  out->warnings = std::move(r.warnings);
  out->coefficients = std::move(r.coefficients);
  for (auto& row : out->coefficients) std::sort(row.begin(), row.end());
  out->stats.seconds = r.seconds;
  if (r.method_stats.empty()) {
    out->stats.equations = r.stats.equations;
    out->stats.pivots = r.stats.pivots;
  }
  out->method_stats = std::move(r.method_stats);
  return out;
}

}  // namespace

extern "C" {

const char* sailir_version(void) { return SAILIR_VERSION_STRING; }

const char* sailir_last_error(void) {
  if (t_kind != SAILIR_OK && t_error.empty()) return "out of memory";
  return t_error.c_str();
}

sailir_error_kind sailir_last_error_kind(void) { return t_kind; }

const char* sailir_error_kind_name(sailir_error_kind kind) {
  switch (kind) {
    case SAILIR_OK: return "ok";
    case SAILIR_ERROR_BAD_INPUT: return "bad input";
    case SAILIR_ERROR_BAD_POLICY_FILE: return "bad policy file";
    case SAILIR_ERROR_POLICY_MISMATCH: return "policy mismatch";
    case SAILIR_ERROR_NOT_REDUCED: return "not reduced";
    case SAILIR_ERROR_INTERNAL: return "internal";
  }
  return "unknown";
}

// ---- families ----

sailir_family* sailir_family_load(const char* spec, const char* point, uint64_t prime, const char* masters_file) {
  return guarded(
      [&]() -> sailir_family* {
        if (!given(spec)) throw BadInput("no family given");
        auto f = std::make_unique<sailir_family>(sailir_family{Engine::load(spec), "", "", kDefaultPrime, std::nullopt});
        f->prime = prime == 0 ? kDefaultPrime : n_check_prime(prime);
        // The point resolved once: symbols without a value get their random rational now, so every
        // reduction of this handle is at the same point.
        const NumericPoint pt = resolve_point(f->def(), given(point) ? point : "");
        point_in_field(pt, nmod_t{f->prime});  // a denominator vanishing modulo the prime fails now
        f->point_text = f->point_spec = format_point(pt);
        if (given(masters_file)) f->masters = read_masters(f->def(), masters_file);
        return f.release();
      },
      static_cast<sailir_family*>(nullptr));
}

void sailir_family_free(sailir_family* family) { delete family; }

const char* sailir_family_name(const sailir_family* f) { return f ? f->def().name.c_str() : nullptr; }
const char* sailir_family_hash(const sailir_family* f) { return f ? f->def().hash.c_str() : nullptr; }
size_t sailir_family_propagators(const sailir_family* f) { return f ? static_cast<size_t>(f->def().n) : 0; }
size_t sailir_family_symbol_count(const sailir_family* f) { return f ? f->def().symbols.size() : 0; }
const char* sailir_family_symbol(const sailir_family* f, size_t i) {
  return f && i < f->def().symbols.size() ? f->def().symbols[i].c_str() : nullptr;
}
uint64_t sailir_family_prime(const sailir_family* f) { return f ? f->prime : 0; }
const char* sailir_family_point(const sailir_family* f) { return f ? f->point_text.c_str() : nullptr; }

// ---- policies ----

namespace {

// A loaded policy checked against the family at its point (features, probe scores).
sailir_policy* checked_policy(const sailir_family& family, Policy policy) {
  const FamilyDef& def = family.def();
  std::vector<Integral> preferred = def.masters;
  if (family.masters) {
    preferred.clear();
    for (const std::string& m : *family.masters) preferred.push_back(parse_family_integral(def, m));
  }
  FamilyContext ctx(def, resolve_point(def, family.point_spec), family.prime, std::move(preferred));
  policy.check_compatible(ctx, def.name);
  return std::make_unique<sailir_policy>(sailir_policy{std::move(policy), def.hash}).release();
}

}  // namespace

sailir_policy* sailir_policy_load(const sailir_family* family, const char* path) {
  return guarded(
      [&]() -> sailir_policy* {
        if (!family) throw BadInput("no family given for the policy");
        const std::string spec = given(path) ? path : "";
        if (spec == "random") throw BadInput("policy 'random' needs a seed: load it with sailir_policy_random");
        return checked_policy(*family, Policy::choose(spec, std::nullopt, family->def().name, family->def().hash));
      },
      static_cast<sailir_policy*>(nullptr));
}

sailir_policy* sailir_policy_random(const sailir_family* family, uint64_t seed) {
  return guarded(
      [&]() -> sailir_policy* {
        if (!family) throw BadInput("no family given for the policy");
        return checked_policy(*family, Policy::random(seed));
      },
      static_cast<sailir_policy*>(nullptr));
}

void sailir_policy_free(sailir_policy* policy) { delete policy; }

// ---- reduction ----

sailir_options sailir_default_options(void) {
  sailir_options o;
  o.method = SAILIR_METHOD_LAPORTA;
  o.beam_width = BeamOptions{}.width;
  o.threads = EngineOptions{}.threads;
  o.check = 1;
  o.verify = 0;
  o.memory_per_worker = LearnedOptions{}.memory_per_worker;
  o.memory_limit = 0;
  o.checkpoint = nullptr;
  o.symmetries = 1;
  return o;
}

sailir_result* sailir_reduce(const sailir_family* family, const sailir_policy* policy, const char* const* integrals,
                             size_t count, const sailir_options* options) {
  return guarded(
      [&]() -> sailir_result* {
        const sailir_options opt = options ? *options : sailir_default_options();
        if (!family) throw BadInput("no family given");
        check_options(opt);
        if (count > 0 && !integrals) throw BadInput("no integrals given (NULL array)");
        std::vector<std::string> texts;
        for (size_t i = 0; i < count; ++i) {
          if (!integrals[i]) throw BadInput("integral " + std::to_string(i) + " is NULL");
          texts.emplace_back(integrals[i]);
        }
        const bool learned = opt.method == SAILIR_METHOD_LEARNED;
        if (learned && !policy)
          throw BadInput("the learned method needs a policy (sailir_policy_load); pass one or use SAILIR_METHOD_LAPORTA");
        if (learned && policy->family_hash != family->def().hash)
          throw PolicyMismatchError("the policy was loaded for family hash " + policy->family_hash + ", not for " +
                                    family->def().name + " (" + family->def().hash + ")");
        EngineOptions eo;
        eo.method = learned ? "learned" : "laporta";
        eo.prime = family->prime;
        eo.point = family->point_spec;
        eo.masters = family->masters;
        eo.check = opt.check != 0;
        eo.symmetries = opt.symmetries != 0;
        eo.threads = opt.threads;
        eo.learned.beam.width = opt.beam_width;
        eo.learned.verify = opt.verify != 0;
        eo.learned.memory_per_worker = opt.memory_per_worker;
        eo.memory_limit = opt.memory_limit;
        if (opt.checkpoint) eo.learned.checkpoint = opt.checkpoint;
        if (learned) eo.loaded_policy = &policy->policy;
        EngineResult res = family->engine.reduce(texts, eo);
        if (res.verified && !*res.verified)
          throw VerificationError("verification against the Laporta reducer failed: " +
                                  (res.verify_error.empty() ? std::string("coefficients disagree") : res.verify_error));
        auto out = make_result(family->def(), std::move(res.numeric));
        for (auto& [k, v] : out->method_stats) {
          if (k == "jobs") out->stats.jobs = static_cast<uint64_t>(v);
          if (k == "memo_hits") out->stats.memo_hits = static_cast<uint64_t>(v);
          if (k == "fallbacks") out->stats.fallbacks = static_cast<uint64_t>(v);
        }
        out->stats.verified = res.verified && *res.verified ? 1 : 0;
        return out.release();
      },
      static_cast<sailir_result*>(nullptr));
}

void sailir_result_free(sailir_result* result) { delete result; }

uint64_t sailir_result_prime(const sailir_result* r) { return r ? r->prime : 0; }
uint64_t sailir_result_check_prime(const sailir_result* r) { return r ? r->check_prime : 0; }

size_t sailir_result_master_count(const sailir_result* r) { return r ? r->masters.size() : 0; }
const char* sailir_result_master(const sailir_result* r, size_t i) {
  return r && i < r->masters.size() ? r->masters[i].c_str() : nullptr;
}

size_t sailir_result_target_count(const sailir_result* r) { return r ? r->targets.size() : 0; }
const char* sailir_result_target(const sailir_result* r, size_t t) {
  return r && t < r->targets.size() ? r->targets[t].c_str() : nullptr;
}

uint64_t sailir_result_coefficient(const sailir_result* r, size_t t, size_t m) {
  if (!r || t >= r->coefficients.size() || m >= r->masters.size()) return 0;
  const auto& row = r->coefficients[t];
  auto it = std::lower_bound(row.begin(), row.end(), static_cast<int>(m),
                             [](const std::pair<int, u64>& e, int k) { return e.first < k; });
  return it != row.end() && it->first == static_cast<int>(m) ? it->second : 0;
}

size_t sailir_result_term_count(const sailir_result* r, size_t t) {
  return r && t < r->coefficients.size() ? r->coefficients[t].size() : 0;
}

int sailir_result_term(const sailir_result* r, size_t t, size_t k, size_t* master, uint64_t* coefficient) {
  if (!r || t >= r->coefficients.size() || k >= r->coefficients[t].size()) return 1;
  if (master) *master = static_cast<size_t>(r->coefficients[t][k].first);
  if (coefficient) *coefficient = r->coefficients[t][k].second;
  return 0;
}

size_t sailir_result_warning_count(const sailir_result* r) { return r ? r->warnings.size() : 0; }
const char* sailir_result_warning(const sailir_result* r, size_t i) {
  return r && i < r->warnings.size() ? r->warnings[i].c_str() : nullptr;
}

sailir_stats sailir_result_stats(const sailir_result* r) { return r ? r->stats : sailir_stats{}; }

// ---- recordings ----

sailir_recording* sailir_recording_load(const sailir_family* family, const char* path) {
  return guarded(
      [&]() -> sailir_recording* {
        if (!family) throw BadInput("no family given for the recording");
        if (!given(path)) throw BadInput("no recording file given");
        auto r = std::make_unique<sailir_recording>();
        r->family = &family->def();
        r->recording = Recording::parse(read_file(path, "recording"), family->def());
        for (const Integral& m : r->recording.master_integrals()) r->masters.push_back(format_integral(m, family->def().n));
        for (const Integral& t : r->recording.target_integrals()) r->targets.push_back(format_integral(t, family->def().n));
        return r.release();
      },
      static_cast<sailir_recording*>(nullptr));
}

void sailir_recording_free(sailir_recording* recording) { delete recording; }

size_t sailir_recording_master_count(const sailir_recording* r) { return r ? r->masters.size() : 0; }
const char* sailir_recording_master(const sailir_recording* r, size_t i) {
  return r && i < r->masters.size() ? r->masters[i].c_str() : nullptr;
}
size_t sailir_recording_target_count(const sailir_recording* r) { return r ? r->targets.size() : 0; }
const char* sailir_recording_target(const sailir_recording* r, size_t t) {
  return r && t < r->targets.size() ? r->targets[t].c_str() : nullptr;
}

int sailir_recording_replay(const sailir_recording* r, uint64_t prime, const uint64_t* values, size_t count,
                            uint64_t* out) {
  return guarded(
      [&]() -> int {
        if (!r || !out || (count > 0 && !values)) throw BadInput("sailir_recording_replay: NULL argument");
        if (count != r->family->symbols.size())
          throw BadInput("sailir_recording_replay: " + std::to_string(count) + " values given, the family has " +
                         std::to_string(r->family->symbols.size()) + " symbols");
        n_check_prime(prime);
        std::vector<u64> point(values, values + count);
        for (u64& v : point) v %= prime;
        thread_local std::vector<u64> dense;
        Replayer replayer(*r->family, r->recording);
        if (!replayer.run(prime, point, dense))
          throw UnreducedError("a pivot of the recording vanishes at this point (a degenerate probe)");
        std::copy(dense.begin(), dense.end(), out);
        return 0;
      },
      1);
}

}  // extern "C"
