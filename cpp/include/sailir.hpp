// sailir.hpp: a header-only C++17 wrapper over the C API in sailir.h. Handles are RAII objects
// (move-only), failures throw sailir::api::Error carrying the one-line message and its kind.
//
//     sailir::api::Family family("trianglebox");
//     sailir::api::Result r = sailir::api::reduce(family, {"I[1,1,1,1,1,1,0]"});
//     for (auto [m, c] : r.terms(0)) std::cout << r.master(m) << " " << c << "\n";
//
// The wrapper lives in sailir::api so that it never meets the engine's own C++ names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sailir.h"

namespace sailir::api {

enum class ErrorKind {
  bad_input = SAILIR_ERROR_BAD_INPUT,
  bad_policy_file = SAILIR_ERROR_BAD_POLICY_FILE,
  policy_mismatch = SAILIR_ERROR_POLICY_MISMATCH,
  not_reduced = SAILIR_ERROR_NOT_REDUCED,
  internal = SAILIR_ERROR_INTERNAL,
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }
  const char* kind_name() const noexcept { return sailir_error_kind_name(static_cast<sailir_error_kind>(kind_)); }

 private:
  ErrorKind kind_;
};

namespace detail {

// Throws the calling thread's last C API error.
[[noreturn]] inline void throw_last_error() {
  sailir_error_kind k = sailir_last_error_kind();
  throw Error(k == SAILIR_OK ? ErrorKind::internal : static_cast<ErrorKind>(k), sailir_last_error());
}

template <class T>
T* checked(T* handle) {
  if (!handle) throw_last_error();
  return handle;
}

struct Deleter {
  void operator()(sailir_family* p) const noexcept { sailir_family_free(p); }
  void operator()(sailir_policy* p) const noexcept { sailir_policy_free(p); }
  void operator()(sailir_result* p) const noexcept { sailir_result_free(p); }
};

inline const char* c_str_or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

}  // namespace detail

// A family at a numeric point and prime; see sailir_family_load for the arguments ("" and 0 mean
// the defaults). Immutable: may be shared by threads.
class Family {
 public:
  explicit Family(const std::string& spec, const std::string& point = "", std::uint64_t prime = 0,
                  const std::string& masters_file = "")
      : h_(detail::checked(sailir_family_load(spec.c_str(), detail::c_str_or_null(point), prime,
                                              detail::c_str_or_null(masters_file)))) {}

  std::string name() const { return sailir_family_name(get()); }
  std::string hash() const { return sailir_family_hash(get()); }
  std::size_t propagators() const { return sailir_family_propagators(get()); }
  std::uint64_t prime() const { return sailir_family_prime(get()); }
  std::string point() const { return sailir_family_point(get()); }
  const sailir_family* get() const noexcept { return h_.get(); }

 private:
  std::unique_ptr<sailir_family, detail::Deleter> h_;
};

// A policy checked against `family`; path "" loads the one shipped for the family, "uniform" the
// ablation baseline with equal scores.
class Policy {
 public:
  explicit Policy(const Family& family, const std::string& path = "")
      : h_(detail::checked(sailir_policy_load(family.get(), detail::c_str_or_null(path)))) {}
  // The ablation baseline with seeded pseudo-random scores.
  static Policy random(const Family& family, uint64_t seed) {
    return Policy(detail::checked(sailir_policy_random(family.get(), seed)));
  }
  const sailir_policy* get() const noexcept { return h_.get(); }

 private:
  explicit Policy(sailir_policy* p) : h_(p) {}
  std::unique_ptr<sailir_policy, detail::Deleter> h_;
};

// sailir_options starting from the library's defaults.
struct Options : sailir_options {
  Options() : sailir_options(sailir_default_options()) {}
  static Options laporta() { return Options(); }
  static Options learned(int beam_width = sailir_default_options().beam_width) {
    Options o;
    o.method = SAILIR_METHOD_LEARNED;
    o.beam_width = beam_width;
    return o;
  }
};

class Result {
 public:
  explicit Result(sailir_result* handle) : h_(detail::checked(handle)) {}

  std::uint64_t prime() const { return sailir_result_prime(get()); }
  std::uint64_t check_prime() const { return sailir_result_check_prime(get()); }

  std::size_t master_count() const { return sailir_result_master_count(get()); }
  std::string master(std::size_t i) const { return at(sailir_result_master(get(), i), "master", i); }
  std::vector<std::string> masters() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < master_count(); ++i) out.push_back(master(i));
    return out;
  }

  std::size_t target_count() const { return sailir_result_target_count(get()); }
  std::string target(std::size_t t) const { return at(sailir_result_target(get(), t), "target", t); }

  // Coefficient of master m in target t, 0 when it vanishes.
  std::uint64_t coefficient(std::size_t t, std::size_t m) const { return sailir_result_coefficient(get(), t, m); }
  // Nonzero coefficients of target t: (master index, coefficient), ascending in master index.
  std::vector<std::pair<std::size_t, std::uint64_t>> terms(std::size_t t) const {
    std::vector<std::pair<std::size_t, std::uint64_t>> out(sailir_result_term_count(get(), t));
    for (std::size_t k = 0; k < out.size(); ++k) sailir_result_term(get(), t, k, &out[k].first, &out[k].second);
    return out;
  }

  std::vector<std::string> warnings() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < sailir_result_warning_count(get()); ++i) out.emplace_back(sailir_result_warning(get(), i));
    return out;
  }
  sailir_stats stats() const { return sailir_result_stats(get()); }
  const sailir_result* get() const noexcept { return h_.get(); }

 private:
  static std::string at(const char* s, const char* what, std::size_t i) {
    if (!s) throw std::out_of_range(std::string("no ") + what + " " + std::to_string(i));
    return s;
  }
  std::unique_ptr<sailir_result, detail::Deleter> h_;
};

namespace detail {
inline Result reduce(const Family& family, const sailir_policy* policy, const std::vector<std::string>& integrals,
                     const sailir_options& options) {
  std::vector<const char*> texts;
  texts.reserve(integrals.size());
  for (const std::string& s : integrals) texts.push_back(s.c_str());
  return Result(sailir_reduce(family.get(), policy, texts.data(), texts.size(), &options));
}
}  // namespace detail

// Laporta (or, with options.method learned, an error: the learned method needs a policy).
inline Result reduce(const Family& family, const std::vector<std::string>& integrals,
                     const sailir_options& options = Options()) {
  return detail::reduce(family, nullptr, integrals, options);
}

// With a policy: options.method chooses (Options::learned() for the policy-guided reducer).
inline Result reduce(const Family& family, const Policy& policy, const std::vector<std::string>& integrals,
                     const sailir_options& options = Options::learned()) {
  return detail::reduce(family, policy.get(), integrals, options);
}

}  // namespace sailir::api
