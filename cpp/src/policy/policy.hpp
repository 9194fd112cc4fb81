// The policy runtime: loads an exported policy file (ONNX, see docs/policy-file.md) without torch
// or Python and scores candidate actions on the CPU. The network (architecture
// "sailir-policy-net-1", python/sailir/policy/model.py) is evaluated by our own kernels from the
// weights stored as named initializers; the ONNX graph itself is not interpreted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "search/reduction_state.hpp"

namespace sailir {

// An unreadable, truncated or corrupt policy file, or one of an unsupported architecture/format.
struct PolicyFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A readable policy made for another family, identities version or feature definition.
struct PolicyMismatchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Features of several (state, target, candidates) samples, appended sample by sample.
struct PolicyBatch {
  FeatureRows rows;
  std::vector<int> terms, table, actions;  // per sample: rows of each kind

  void clear();
  std::size_t samples() const { return actions.size(); }
  std::size_t total_actions() const { return rows.ops.size(); }
  void add(const ReductionState& state, const Integral& target, const std::vector<Candidate>& cands);
};

class Policy {
 public:
  // Throws PolicyFileError with a one-line message naming `origin`.
  static Policy load_file(const std::string& path);
  static Policy load_bytes(std::string_view bytes, const std::string& origin);
  // The policy shipped for a built-in family (embedded at build time); throws PolicyFileError
  // when there is none.
  // The shipped policy whose metadata names the family's content hash (so a family found under
  // another name or as a Kira directory still finds it), else the one named after the family.
  static Policy builtin(const std::string& family_name, const std::string& family_hash = "");
  // Ablation baselines, which read no file: `uniform` scores every candidate alike (the beam's
  // candidate order then decides among equally light children); `random` gives seeded
  // pseudo-random scores, a hash of the seed and the candidate's features, so a seed gives the
  // same choices on any thread and in any batch.
  static Policy uniform();
  static Policy random(std::uint64_t seed);
  // What --policy names: "" the family's shipped policy, "uniform", "random" (with `seed`), else
  // a file. check_choice throws std::invalid_argument (one line) for "random" without a seed or
  // a seed without "random", before anything is loaded.
  static void check_choice(const std::string& spec, std::optional<std::uint64_t> seed);
  static Policy choose(const std::string& spec, std::optional<std::uint64_t> seed, const std::string& family_name,
                       const std::string& family_hash = "");

  Policy(Policy&&) noexcept;
  Policy& operator=(Policy&&) noexcept;
  ~Policy();

  // The sailir.* properties, keyed without the prefix as in policy_file.read_metadata
  // ("family", "family_hash", "config", ...).
  const std::map<std::string, std::string>& metadata() const;
  const std::string& family_name() const;
  const std::string& content_hash() const;  // of the policy file's bytes (checkpoints name it)
  std::size_t parameters() const;
  bool is_ablation() const;  // uniform or random: no network, no file
  // Metadata "ranking" = "policy": a policy improved on the engine's own paths (sailir improve)
  // that was measured to take fewer steps ranking candidates alone than the weight ranking did.
  // The beam's automatic ranking then lets its scores order the candidates.
  bool ranks_alone() const;

  // Throws PolicyMismatchError (one line: what differs, policy value vs family value) unless
  // the family hash, identities version, features version and feature spec all match. Then
  // scores a probe batch of fresh states of the family and throws PolicyFileError when a score
  // is not finite or every candidate gets the same score (such a policy cannot rank). Ablation
  // policies fit every family and are not probed (uniform is constant on purpose).
  // `family_name`, when given, names the family in the message instead of "this family".
  void check_compatible(const FamilyContext& ctx, const std::string& family_name = {}) const;

  // Raw scores of every action of every sample, concatenated in batch order.
  void logits(const PolicyBatch& batch, std::vector<float>& out, int threads = 1) const;
  // log-softmax of the scores within each sample.
  void log_probs(const PolicyBatch& batch, std::vector<float>& out, int threads = 1) const;

 private:
  struct Impl;
  explicit Policy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sailir
