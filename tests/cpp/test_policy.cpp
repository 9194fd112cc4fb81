// The policy runtime on the shipped triangle-box policy: the embedded copy equals the file, the
// compatibility checks, scores of real states (finite, log-probabilities normalised, the same for
// any thread count), batch validation, and the ONNX reader on truncated and corrupted files:
// every damaged copy either loads or throws PolicyFileError, never anything else.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <random>

#include "check.hpp"
#include "family/family_source.hpp"
#include "policy/policy.hpp"
#include "policy/policy_kernels.hpp"

using namespace sailir;

namespace {

const char* kShipped = "python/sailir/data/policies/trianglebox.onnx";

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Loads damaged bytes: true when loaded, false on PolicyFileError; any other exception fails.
bool loads(const std::string& bytes, int& other) {
  try {
    Policy p = Policy::load_bytes(bytes, "damaged");
    return true;
  } catch (const PolicyFileError& e) {
    if (std::string(e.what()).find('\n') != std::string::npos) ++other;
    return false;
  } catch (...) {
    ++other;
    return false;
  }
}

// A batch of random features: `states` samples with `terms`, `table` and `actions` rows each.
PolicyBatch random_batch(int n, int ops, int states, int terms, int table, int actions, unsigned seed) {
  const FeatureDims d(n);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  PolicyBatch b;
  auto fill = [&](std::vector<float>& v, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) v.push_back(normal(rng));
  };
  for (int s = 0; s < states; ++s) {
    fill(b.rows.target, d.target);
    fill(b.rows.terms, std::size_t(terms) * d.term);
    fill(b.rows.table, std::size_t(table) * d.table);
    fill(b.rows.actions, std::size_t(actions) * d.action);
    for (int a = 0; a < actions; ++a) b.rows.ops.push_back(static_cast<std::int32_t>(rng() % ops));
    b.terms.push_back(terms);
    b.table.push_back(table);
    b.actions.push_back(actions);
  }
  return b;
}

}  // namespace

int main() {
  const std::string bytes = read_bytes(kShipped);
  CHECK(bytes.size() > 1000);
  Policy policy = Policy::builtin("trianglebox");
  CHECK(policy.family_name() == "trianglebox");
  CHECK(policy.metadata().at("architecture") == "sailir-policy-net-1");
  CHECK(policy.parameters() == 10769);
  CHECK_THROWS(Policy::builtin("bubble"));
  CHECK_THROWS(Policy::load_file("no/such/policy.onnx"));

  FamilyDef family = load_family("trianglebox");
  FamilyContext ctx(family, resolve_point(family, ""), kDefaultPrime, family.masters);
  policy.check_compatible(ctx);
  {
    FamilyDef bubble = load_family("bubble");
    FamilyContext other(bubble, resolve_point(bubble, ""), kDefaultPrime, bubble.masters);
    std::string msg;
    try {
      policy.check_compatible(other);
    } catch (const PolicyMismatchError& e) {
      msg = e.what();
    }
    CHECK(msg.find("exported for family 'trianglebox'") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }

  // Real samples: a scrambled-looking expression and a few steps along the first candidate.
  const int n = ctx.n();
  std::vector<Expression::Entry> terms{{parse_integral("I[2,1,2,1,2,2,-4]", n), 3},
                                       {parse_integral("I[1,1,1,1,1,1,-2]", n), 7},
                                       {ctx.masters().back(), 5}};
  ReductionState state(ctx, Expression::from_terms(terms, ctx.modulus()));
  PolicyBatch batch;
  for (int step = 0; step < 6; ++step) {
    auto target = state.target();
    if (!target) break;
    auto cands = state.candidates(*target);
    if (cands.empty()) break;
    batch.add(state, *target, cands);
    state.apply(*target, cands.front());
  }
  CHECK(batch.samples() >= 3);
  std::vector<float> logits, logp, logp2;
  Policy from_file = Policy::load_file(kShipped);
  from_file.logits(batch, logits);
  policy.log_probs(batch, logp);
  CHECK(logits.size() == batch.total_actions());
  std::size_t at = 0;
  for (int a : batch.actions) {
    double total = 0;
    for (int i = 0; i < a; ++i) {
      CHECK(std::isfinite(logits[at + i]) && std::isfinite(logp[at + i]));
      total += std::exp(double(logp[at + i]));
    }
    CHECK(std::abs(total - 1) < 1e-5);
    at += a;
  }

  // Thread counts: identical bits (the split never changes how a sample is computed).
  PolicyBatch big = random_batch(n, ctx.identities().size(), 20, 50, 8, 150, 1);
  std::vector<float> one, two, three;
  policy.logits(big, one, 1);
  policy.logits(big, two, 2);
  policy.logits(big, three, 3);
  CHECK(one == two && one == three);

  // Every instruction set this CPU has gives the same scores up to rounding (FMA or not, other
  // summation orders); the default is the widest.
  const std::string best = policy_kernels::isa();
  for (const char* isa : {"sse2", "avx2", "avx512"}) {
    if (!policy_kernels::use_isa(isa)) continue;
    policy.logits(big, two, 1);
    float worst = 0;
    for (std::size_t i = 0; i < one.size(); ++i) worst = std::max(worst, std::abs(one[i] - two[i]));
    std::printf("kernels %s: max |difference| to %s %.2e\n", isa, best.c_str(), worst);
    CHECK(worst < 1e-4f);
  }
  CHECK(policy_kernels::use_isa(best));
  CHECK(!policy_kernels::use_isa("neon"));

  // Samples without terms, table rows or actions are allowed; an inconsistent batch is refused.
  PolicyBatch odd = random_batch(n, ctx.identities().size(), 1, 0, 0, 5, 2);
  PolicyBatch none = random_batch(n, ctx.identities().size(), 1, 3, 2, 0, 3);
  policy.log_probs(odd, one);
  CHECK(one.size() == 5 && std::isfinite(one[0]));
  policy.log_probs(none, one);
  CHECK(one.empty());
  PolicyBatch bad = random_batch(n, ctx.identities().size(), 2, 3, 2, 4, 4);
  bad.rows.ops[1] = 9;
  CHECK_THROWS(policy.logits(bad, one));
  bad = random_batch(n, ctx.identities().size(), 2, 3, 2, 4, 4);
  bad.terms[0] = 4;
  CHECK_THROWS(policy.logits(bad, one));

  // Damage: truncations and byte flips all over the file. Flips inside weight data load (with
  // other weights), truncation at a field boundary near the end may too (a metadata entry lost);
  // everything else must be a one-line PolicyFileError.
  int other = 0, loaded = 0, refused = 0;
  for (std::size_t cut = 0; cut < bytes.size(); cut += (cut < 600 || cut + 600 > bytes.size()) ? 1 : 37)
    (loads(bytes.substr(0, cut), other) ? loaded : refused)++;
  CHECK(refused > 0);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string damaged = bytes;
    const int flips = 1 + trial % 3;
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = trial < 1000 ? trial % 600 : rng() % damaged.size();
      damaged[at] = static_cast<char>(damaged[at] ^ (1 + rng() % 255));
    }
    (loads(damaged, other) ? loaded : refused)++;
  }
  CHECK(other == 0);
  CHECK(loaded > 0 && refused > 0);
  std::printf("damaged copies: %d loaded, %d refused\n", loaded, refused);
  CHECK_THROWS(Policy::load_bytes("", "empty"));
  CHECK_THROWS(Policy::load_bytes(std::string(100, '\xff'), "ff"));
  TEST_MAIN_END();
}
