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

#include "family/family_source.hpp"
#include "family/point.hpp"
#include "laporta/checked_reduction.hpp"
#include "policy/policy.hpp"
#include "scheduler/learned_reduction.hpp"
#include "scheduler/request_checks.hpp"
#include "search/reduction_state.hpp"

#ifndef SAILIR_VERSION_STRING
#define SAILIR_VERSION_STRING "unknown"
#endif

// The opaque handles. They are created with std::make_unique(...).release() and destroyed with
// delete in the *_free functions: ownership crosses the C boundary as a raw pointer.
struct sailir_family {
  sailir::FamilyDef def;
  sailir::NumericPoint point;
  std::string point_text;
  sailir::u64 prime = sailir::kDefaultPrime;
  std::vector<sailir::Integral> preferred;
};

struct sailir_policy {
  sailir::Policy policy;
  std::string family_hash;  // of the family it was checked against
};

struct sailir_result {
  sailir::u64 prime = 0, check_prime = 0;
  std::vector<std::string> masters, targets, warnings;
  std::vector<std::vector<std::pair<int, sailir::u64>>> coefficients;  // per target, ascending master index
  sailir_stats stats{};
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
  } catch (const UnreducedError& e) {
    set_error(SAILIR_ERROR_NOT_REDUCED, e.what());
  } catch (const VerificationError& e) {
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

std::vector<Integral> read_masters(const FamilyDef& family, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw BadInput("cannot read masters file " + path);
  std::vector<Integral> out;
  std::string line;
  while (std::getline(in, line)) {
    auto start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    auto end = line.find_last_not_of(" \t\r");
    out.push_back(parse_family_integral(family, line.substr(start, end - start + 1)));
  }
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
  out->stats.equations = r.stats.equations;
  out->stats.pivots = r.stats.pivots;
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
        auto f = std::make_unique<sailir_family>();
        f->def = load_family(spec);
        f->prime = prime == 0 ? kDefaultPrime : n_check_prime(prime);
        f->point = resolve_point(f->def, given(point) ? point : "");
        point_in_field(f->point, nmod_t{f->prime});  // a denominator vanishing modulo the prime fails now
        f->point_text = format_point(f->point);
        f->preferred = given(masters_file) ? read_masters(f->def, masters_file) : f->def.masters;
        return f.release();
      },
      static_cast<sailir_family*>(nullptr));
}

void sailir_family_free(sailir_family* family) { delete family; }

const char* sailir_family_name(const sailir_family* f) { return f ? f->def.name.c_str() : nullptr; }
const char* sailir_family_hash(const sailir_family* f) { return f ? f->def.hash.c_str() : nullptr; }
size_t sailir_family_propagators(const sailir_family* f) { return f ? static_cast<size_t>(f->def.n) : 0; }
uint64_t sailir_family_prime(const sailir_family* f) { return f ? f->prime : 0; }
const char* sailir_family_point(const sailir_family* f) { return f ? f->point_text.c_str() : nullptr; }

// ---- policies ----

sailir_policy* sailir_policy_load(const sailir_family* family, const char* path) {
  return guarded(
      [&]() -> sailir_policy* {
        if (!family) throw BadInput("no family given for the policy");
        Policy policy = given(path) ? Policy::load_file(path) : Policy::builtin(family->def.name);
        FamilyContext ctx(family->def, family->point, family->prime, family->preferred);
        policy.check_compatible(ctx);
        return std::make_unique<sailir_policy>(sailir_policy{std::move(policy), family->def.hash}).release();
      },
      static_cast<sailir_policy*>(nullptr));
}

void sailir_policy_free(sailir_policy* policy) { delete policy; }

// ---- reduction ----

sailir_options sailir_default_options(void) {
  sailir_options o;
  o.method = SAILIR_METHOD_LAPORTA;
  o.beam_width = BeamOptions{}.width;
  o.threads = 1;
  o.check = 1;
  o.verify = 0;
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
        ReductionRequest req;
        req.point = family->point;
        req.prime = family->prime;
        req.preferred = family->preferred;
        req.check = opt.check != 0;
        req.threads = opt.threads;
        for (size_t i = 0; i < count; ++i) {
          if (!integrals[i]) throw BadInput("integral " + std::to_string(i) + " is NULL");
          req.targets.push_back(parse_family_integral(family->def, integrals[i]));
        }
        LearnedOptions lo;
        lo.beam.width = opt.beam_width;
        lo.verify = opt.verify != 0;
        check_request(req, opt.method == SAILIR_METHOD_LEARNED ? &lo : nullptr);
        if (opt.method == SAILIR_METHOD_LAPORTA)
          return make_result(family->def, reduce_checked(family->def, req)).release();

        if (!policy)
          throw BadInput("the learned method needs a policy (sailir_policy_load); pass one or use SAILIR_METHOD_LAPORTA");
        if (policy->family_hash != family->def.hash)
          throw PolicyMismatchError("the policy was loaded for family hash " + policy->family_hash + ", not for " +
                                    family->def.name + " (" + family->def.hash + ")");
        LearnedResult lr = reduce_learned(family->def, req, policy->policy, lo);
        if (lo.verify && !lr.verified)
          throw VerificationError("verification against the Laporta reducer failed: " +
                                  (lr.verify_error.empty() ? std::string("coefficients disagree") : lr.verify_error));
        auto out = make_result(family->def, std::move(lr.result));
        out->stats.jobs = lr.stats.jobs;
        out->stats.memo_hits = lr.stats.memo_hits;
        out->stats.fallbacks = lr.stats.fallbacks;
        out->stats.verified = lr.verified ? 1 : 0;
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

}  // extern "C"
