// The policy runtime: loads an exported policy file (ONNX, see docs/policy-file.md) without torch
// or Python and scores candidate actions on the CPU. The network (architecture
// "sailir-policy-net-1", python/sailir/policy/model.py) is evaluated by our own kernels from the
// weights stored as named initializers; the ONNX graph itself is not interpreted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
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
  static Policy builtin(const std::string& family_name);

  Policy(Policy&&) noexcept;
  Policy& operator=(Policy&&) noexcept;
  ~Policy();

  // The sailir.* properties, keyed without the prefix as in policy_file.read_metadata
  // ("family", "family_hash", "config", ...).
  const std::map<std::string, std::string>& metadata() const;
  const std::string& family_name() const;
  const std::string& content_hash() const;  // of the policy file's bytes (checkpoints name it)
  std::size_t parameters() const;

  // Throws PolicyMismatchError (one line: what differs, policy value vs family value) unless
  // the family hash, identities version, features version and feature spec all match.
  void check_compatible(const FamilyContext& ctx) const;

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
