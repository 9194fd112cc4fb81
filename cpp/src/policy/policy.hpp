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
  void append(const PolicyBatch& other);  // other's samples after these
};

// The network's shape (sailir.config) and its weights as the kernels read them: transposed to
// [in, out] with out padded to a multiple of 16 (zeros). Linear layers that are followed by
// another linear map are folded into it at load time (computed in double): means, keys/values
// and the query/head blocks read the first layer's ReLU output directly, which saves a
// width x width product per term and per action. Other backends (the batched forward,
// policy/batched_forward.hpp, and its CUDA twin) read the same arrays.
struct PolicyConfig {
  int target_dim = 0, term_dim = 0, table_dim = 0, action_dim = 0, ops = 0, width = 0, attention = 0;
};
struct PolicyWeights {
  PolicyConfig cfg;
  int wp = 0, ap = 0, ny = 0;  // padded width, padded attention, width of Y = [query | head action block]
  std::vector<float> target1_w, target1_b, target2_w, target2_b;  // target_enc
  std::vector<float> term1_w, term1_b, term2_w, term2_b;          // term_enc (2: for the mean)
  std::vector<float> table1_w, table1_b, table2_w, table2_b;      // table_enc
  std::vector<float> kv_w, kv_b;        // [wp, 2ap]: key | value of term_enc.2's input
  std::vector<float> ln_g, ln_b;        // state_norm
  std::vector<float> state_w, state_b;  // [wp, wp]: head.0's state block; head.0.bias
  std::vector<float> action1_w, action1_b;
  std::vector<float> y_w, y_op;         // [wp, ny], [ops, ny]: query/sqrt(att) | head.0's action block
  std::vector<float> ctx_w;             // [ap, wp]: head.0's context block
  std::vector<float> out_w;             // [wp]: head.2
  float out_b = 0.f;
  std::vector<float> ctx_empty;         // [ap]: the context of a sample without terms
};
inline constexpr double kLayerNormEps = 1e-5;  // nn.LayerNorm's default, the epsilon of the exported graph

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

  // The network's weights; null for an ablation baseline.
  const PolicyWeights* weights() const;
  // Checks a batch's shape against the network (std::invalid_argument otherwise).
  void validate(const PolicyBatch& batch) const;

  // Raw scores of every action of every sample, concatenated in batch order.
  void logits(const PolicyBatch& batch, std::vector<float>& out, int threads = 1) const;
  // log-softmax of the scores within each sample.
  void log_probs(const PolicyBatch& batch, std::vector<float>& out, int threads = 1) const;
  // The same normalization of raw scores in place, samples of `actions` scores each.
  static void normalize(const std::vector<int>& actions, std::vector<float>& out);

 private:
  struct Impl;
  explicit Policy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sailir
