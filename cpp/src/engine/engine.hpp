// The engine's one façade: sailir-reduce, the C API and the Python module build an
// EngineOptions, call Engine::reduce or Engine::replay, and print or hand back the result. The
// defaults, the checks on every option and the choice of method live here only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "family/family_file.hpp"
#include "identities/symmetric_basis.hpp"
#include "laporta/checked_reduction.hpp"
#include "laporta/laporta_recording.hpp"
#include "recording/recording.hpp"
#include "policy/policy.hpp"
#include "scheduler/analytic.hpp"
#include "scheduler/learned_reduction.hpp"

namespace sailir {

struct EngineOptions {
  std::string method = "laporta";  // laporta | learned
  u64 prime = kDefaultPrime;
  std::string point;  // "d=41,m2=31/7": overrides the family's point; analytic: the symbols kept numeric
  std::optional<std::vector<std::string>> masters;  // nullopt: the family's basis; empty: automatic
  bool check = true;   // numeric: a second prime (learned: a replay there)
  int threads = 2;
  int r_extra = 0, s_extra = 0;
  // Laporta (and the learned method's fallback and --verify): the memory a run may use; a
  // system beyond it stops at once, naming the size it would need. 0: 75% of the memory this
  // machine has available. With the check prime running beside the first, each gets half.
  std::size_t memory_limit = 0;
  std::string policy;  // learned: a policy file, "uniform" or "random"; "" for the one shipped with the family
  std::optional<std::uint64_t> policy_seed;  // the seed of policy "random" (needed there, refused elsewhere)
  const Policy* loaded_policy = nullptr;  // learned: a policy already loaded (then `policy` is ignored)
  LearnedOptions learned;
  bool analytic = false;  // exact rational functions of d and the symbols `point` leaves free
  std::size_t max_probes = 1000000;
  ProbeRunner runner;   // analytic: runs batches of probes elsewhere (a Dask cluster); empty: `device`
  Device device = Device::automatic;  // analytic: where probes run (device/probe_device.hpp)
  bool record = false;  // keep the recording (EngineResult::recording), e.g. for --save-path
  // Masters related by sector symmetries (FamilyDef::symmetries) are eliminated, so the basis
  // has masters in unique sectors only (identities/symmetric_basis.hpp).
  bool symmetries = true;
  std::function<void(const std::string&)> progress;  // may be empty
  std::function<void(const std::string&)> notice;    // one-line notices (the device fallback); may be empty
};

struct EngineResult {
  std::string method;  // laporta, learned, replay
  ReductionResult numeric;  // masters, targets and coefficients at one prime and point (not analytic)
  std::optional<AnalyticResult> analytic;
  std::optional<Recording> recording;  // when options.record, or replayed
  std::optional<ReductionPath> path;   // learned, numeric: every job's steps (training data, tests)
  std::optional<bool> verified;        // learned with learned.verify
  std::string verify_error;
};

// Throws std::invalid_argument (one line) for an option out of range or unknown.
void check_options(const EngineOptions& options);

// The reducer's masters left once sector symmetries relate them (all of them when none do): the
// masters' images are reduced by the same reducer. For structure queries (sailir family).
struct UniqueMasters {
  std::vector<Integral> masters;
  bool upper_bound = false;  // relations reduced modulo subsectors: a full one may eliminate more
};
// Memory the listing's full reduction of the images may use before it falls back (default;
// `memory` overrides it, capped by the machine's share, default_memory_limit()).
inline constexpr std::size_t kListingMemory = std::size_t{2} << 30;
UniqueMasters unique_masters(const FamilyDef& family, LaportaReducer& reducer, const NumericPoint& point,
                             std::size_t memory = kListingMemory);

class Engine {
 public:
  explicit Engine(FamilyDef family) : family_(std::move(family)) {}
  // A built-in name, a family YAML file, a Kira config directory or a compiled .sfam file.
  static Engine load(const std::string& spec);

  const FamilyDef& family() const { return family_; }

  // Reduces the integrals ("I[...]" texts) onto masters: numerically at options.point and
  // options.prime, or exactly with options.analytic.
  EngineResult reduce(const std::vector<std::string>& integrals, const EngineOptions& options) const;
  // Replays a saved recording or reduction path (file text), numerically or exactly. `integrals`,
  // when given, must be the file's own targets.
  EngineResult replay(const std::string& text, const std::vector<std::string>& integrals,
                      const EngineOptions& options) const;

 private:
  ReductionRequest request(const std::vector<std::string>& integrals, const EngineOptions& options,
                           const NumericPoint& point) const;
  EngineResult reduce_numeric(const ReductionRequest& req, const EngineOptions& options) const;
  EngineResult reduce_plain(const ReductionRequest& req, const EngineOptions& options) const;
  EngineResult reduce_with_extras(const ReductionRequest& req, std::size_t targets, const EngineOptions& options) const;
  std::unique_ptr<SymmetricBasis> symmetric_request(ReductionRequest& req, const EngineOptions& options,
                                                    const std::vector<Integral>* masters,
                                                    bool deeper = false) const;
  EngineResult reduce_analytic(const ReductionRequest& req, const EngineOptions& options) const;
  RecordedReduction record(const ReductionRequest& req, const EngineOptions& options) const;
  NumericPoint generic_point() const;
  void refuse_if_degenerate(const ReductionRequest& req, const UnreducedError& failure) const;

  FamilyDef family_;
};

}  // namespace sailir
