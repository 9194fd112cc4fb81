#include "policy/policy.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "family/family_file.hpp"
#include "policy/builtin_policies.hpp"
#include "policy/onnx_file.hpp"
#include "policy/policy_kernels.hpp"

namespace sailir {

namespace kern = policy_kernels;

namespace {

constexpr std::string_view kFormat = "sailir-policy";
constexpr std::string_view kFormatVersion = "1";
constexpr std::string_view kArchitecture = "sailir-policy-net-1";
constexpr std::string_view kPrefix = "sailir.";
constexpr int kChunk = 48;  // actions per pass: a chunk's intermediates (~36 KB at 50 terms) stay in cache
// Below this many multiply-adds a batch runs on the calling thread: starting threads costs more.
constexpr double kMinParallelMacs = 4e5;

// What scores the candidates: the network of a policy file, or an ablation baseline.
enum class Kind { network, uniform, random };

// The flat JSON object of integers that export writes as sailir.config (PolicyConfig.to_dict).
PolicyConfig parse_config(std::string_view s, const std::string& origin) {
  auto bad = [&](const std::string& why) {
    return PolicyFileError("policy file " + origin + " has an unreadable sailir.config (" + why + ")");
  };
  std::map<std::string, long long, std::less<>> v;
  std::size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  };
  auto eat = [&](char c) {
    ws();
    if (i >= s.size() || s[i] != c) throw bad(std::string("expected '") + c + "'");
    ++i;
  };
  eat('{');
  ws();
  if (i < s.size() && s[i] == '}') {
    ++i;
  } else {
    for (;;) {
      eat('"');
      const std::size_t end = s.find('"', i);
      if (end == std::string_view::npos) throw bad("unterminated key");
      std::string key(s.substr(i, end - i));
      i = end + 1;
      eat(':');
      ws();
      const bool neg = i < s.size() && s[i] == '-';
      if (neg) ++i;
      if (i >= s.size() || s[i] < '0' || s[i] > '9') throw bad(key + " is not an integer");
      long long x = 0;
      for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        x = 10 * x + (s[i] - '0');
        if (x > (1LL << 31)) throw bad(key + " is out of range");
      }
      if (!v.emplace(key, neg ? -x : x).second) throw bad("duplicate key " + key);
      ws();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      eat('}');
      break;
    }
  }
  ws();
  if (i != s.size()) throw bad("trailing text");
  PolicyConfig c;
  const std::pair<const char*, int*> fields[] = {
      {"target_dim", &c.target_dim}, {"term_dim", &c.term_dim}, {"table_dim", &c.table_dim},
      {"action_dim", &c.action_dim}, {"ops", &c.ops},           {"width", &c.width},
      {"attention", &c.attention}};
  for (auto [name, dst] : fields) {
    auto it = v.find(name);
    if (it == v.end()) throw bad(std::string("no ") + name);
    if (it->second < 1 || it->second > (1 << 16)) throw bad(std::string(name) + " out of range");
    *dst = static_cast<int>(it->second);
    v.erase(it);
  }
  // A key this runtime does not know would change the network it evaluates.
  if (!v.empty()) throw bad("unknown key " + v.begin()->first);
  return c;
}

std::string short_hash(const std::string& h) { return h.substr(0, 12); }

// splitmix64's finaliser: the random policy's scores are hashes, not a generator's stream, so
// that a candidate's score does not depend on which batch or thread scores it.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t hash_floats(std::uint64_t h, const float* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, v + i, sizeof bits);
    h = mix(h ^ bits);
  }
  return h;
}

// Fresh states of the family with the features inference computes: in each of the highest
// master sectors (up to four), the first master with one more dot, and the state after its first
// step (which has a table row). Samples with a single candidate rank nothing and are left out.
PolicyBatch probe_batch(const FamilyContext& ctx) {
  constexpr std::size_t kSectors = 4;
  PolicyBatch batch;
  std::size_t used = 0;
  const std::vector<SectorId>& sectors = ctx.master_sectors();
  for (auto it = sectors.rbegin(); it != sectors.rend() && used < kSectors; ++it) {
    Integral x = ctx.sector_masters(*it).front();
    x.a[std::countr_zero(*it)] += 1;  // a line of the sector: x stays in it
    if (!ctx.is_valid(x) || ctx.is_master(x)) continue;
    ++used;
    ReductionState state(ctx, Expression::single(x));
    for (int step = 0; step < 2; ++step) {
      const std::optional<Integral> target = state.target();
      if (!target) break;
      const std::vector<Candidate> cands = state.candidates(*target);
      if (cands.empty()) break;
      if (cands.size() >= 2) batch.add(state, *target, cands);
      state.apply(*target, cands.front());
    }
  }
  return batch;
}

// Reusable intermediates of one worker: sized on first use, then no allocation per sample.
struct Scratch {
  std::vector<float> vec, tmp, x, state, sp, h, kv, kt, h1, y, s, cx, z;
  static float* get(std::vector<float>& v, std::size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }
};

}  // namespace

struct Policy::Impl : PolicyWeights {
  Kind kind = Kind::network;
  std::uint64_t seed = 0;  // random
  std::string origin;
  std::string content_hash;  // of the file's bytes
  std::map<std::string, std::string> meta;
  std::size_t params = 0;

  Impl(std::string_view bytes, std::string origin_);
  Impl(Kind k, std::uint64_t seed_);  // an ablation baseline
  void validate(const PolicyBatch& b) const;
  void ablation_logits(const PolicyBatch& b, std::vector<float>& out) const;
  void check_scores(const Policy& policy, const FamilyContext& ctx) const;
  void forward(const float* target, const float* terms, int T, const float* table, int K,
               const std::int32_t* ops, const float* actions, int A, float* out, Scratch& s) const;
  double cost(int T, int K, int A) const {
    const double w = cfg.width, att = cfg.attention;
    return T * (cfg.term_dim + 2 * att) * w + K * cfg.table_dim * w +
           A * ((cfg.action_dim + att + 2 * w) * w + 2 * T * att) + 4 * w * w;
  }
};

Policy::Impl::Impl(std::string_view bytes, std::string origin_) : origin(std::move(origin_)), content_hash(fnv1a_hex(bytes)) {
  const OnnxModel model = read_onnx(bytes, origin);
  for (auto& [k, v] : model.metadata)
    if (k.starts_with(kPrefix)) meta.emplace(k.substr(kPrefix.size()), v);
  auto field = [&](const char* key) -> std::string {
    auto it = meta.find(key);
    return it == meta.end() ? std::string() : it->second;
  };
  if (field("format") != kFormat)
    throw PolicyFileError("policy file " + origin + " is an ONNX model but not a sailir policy (no sailir metadata)");
  if (field("format_version") != kFormatVersion)
    throw PolicyFileError("policy file " + origin + " has format version " + field("format_version") + ", expected " +
                          std::string(kFormatVersion));
  if (field("architecture") != kArchitecture)
    throw PolicyFileError("policy file " + origin + " has architecture '" + field("architecture") +
                          "'; this runtime evaluates " + std::string(kArchitecture));
  if (!meta.contains("config")) throw PolicyFileError("policy file " + origin + " lacks sailir.config");
  cfg = parse_config(meta.at("config"), origin);

  const int w = cfg.width, att = cfg.attention, ops = cfg.ops, H = 2 * w + att;
  wp = kern::padded(w);
  ap = kern::padded(att);
  ny = ap + wp;
  auto get = [&](const std::string& name, std::vector<std::int64_t> dims) -> const std::vector<float>& {
    const std::vector<float>& v = onnx_weight(model, name, dims, origin);
    params += v.size();
    return v;
  };
  // Every weight is looked up (and its shape checked) before anything is sized from the config.
  auto first = [&](const std::string& mlp, int in) -> auto& { return get(mlp + ".0.weight", {w, in}); };
  const auto &target1 = first("target_enc", cfg.target_dim), &target1b = get("target_enc.0.bias", {w});
  const auto &target2 = get("target_enc.2.weight", {w, w}), &target2b = get("target_enc.2.bias", {w});
  const auto &term1 = first("term_enc", cfg.term_dim), &term1b = get("term_enc.0.bias", {w});
  const auto &term2 = get("term_enc.2.weight", {w, w}), &term2b = get("term_enc.2.bias", {w});
  const auto &table1 = first("table_enc", cfg.table_dim), &table1b = get("table_enc.0.bias", {w});
  const auto &table2 = get("table_enc.2.weight", {w, w}), &table2b = get("table_enc.2.bias", {w});
  const auto &lng = get("state_norm.weight", {w}), &lnb = get("state_norm.bias", {w});
  const auto& emb = get("op_emb.weight", {ops, w});
  const auto &action1 = first("action_enc", cfg.action_dim), &action1b = get("action_enc.0.bias", {w});
  const auto &action2 = get("action_enc.2.weight", {w, w}), &action2b = get("action_enc.2.bias", {w});
  const auto &wq = get("query.weight", {att, w}), &bq = get("query.bias", {att});
  const auto &wk = get("key.weight", {att, w}), &bk = get("key.bias", {att});
  const auto &wv = get("value.weight", {att, w}), &bv = get("value.bias", {att});
  const auto &head0 = get("head.0.weight", {w, H}), &head0b = get("head.0.bias", {w});
  const auto &head2 = get("head.2.weight", {1, w}), &head2b = get("head.2.bias", {1});

  // W is a torch Linear weight [out, in]; the kernels read its transpose, padded to wp columns.
  auto transpose = [&](const std::vector<float>& W, int out, int in, int rows) {
    std::vector<float> t(static_cast<std::size_t>(rows) * wp, 0.f);
    for (int j = 0; j < out; ++j)
      for (int k = 0; k < in; ++k) t[static_cast<std::size_t>(k) * wp + j] = W[static_cast<std::size_t>(j) * in + k];
    return t;
  };
  auto padded_bias = [&](const std::vector<float>& b, int n, int to) {
    std::vector<float> t(to, 0.f);
    std::copy(b.begin(), b.begin() + n, t.begin());
    return t;
  };
  // First layer of an encoder (input width `in`), and its second when there is one.
  auto first_layer = [&](const std::vector<float>& W, const std::vector<float>& b, int in, std::vector<float>& tw,
                         std::vector<float>& tb) {
    tw = transpose(W, w, in, in);
    tb = padded_bias(b, w, wp);
  };
  auto second_layer = [&](const std::vector<float>& W, const std::vector<float>& b, std::vector<float>& tw,
                          std::vector<float>& tb) {
    tw = transpose(W, w, w, wp);
    tb = padded_bias(b, w, wp);
  };
  first_layer(target1, target1b, cfg.target_dim, target1_w, target1_b);
  second_layer(target2, target2b, target2_w, target2_b);
  first_layer(term1, term1b, cfg.term_dim, term1_w, term1_b);
  second_layer(term2, term2b, term2_w, term2_b);
  first_layer(table1, table1b, cfg.table_dim, table1_w, table1_b);
  second_layer(table2, table2b, table2_w, table2_b);
  first_layer(action1, action1b, cfg.action_dim, action1_w, action1_b);
  ln_g.assign(lng.begin(), lng.end());
  ln_b.assign(lnb.begin(), lnb.end());
  out_w = padded_bias(head2, w, wp);
  out_b = head2b[0];
  auto at = [](const std::vector<float>& W, int cols, int r, int c) -> double {
    return W[static_cast<std::size_t>(r) * cols + c];
  };

  // Keys and values of term_enc's output t = W2 h + b2: (Wk W2) h + (Wk b2 + bk).
  kv_w.assign(static_cast<std::size_t>(wp) * 2 * ap, 0.f);
  kv_b.assign(2 * ap, 0.f);
  for (int half = 0; half < 2; ++half) {
    const auto& W = half ? wv : wk;
    const auto& b = half ? bv : bk;
    for (int c = 0; c < att; ++c) {
      double bias = b[c];
      for (int l = 0; l < w; ++l) bias += at(W, w, c, l) * term2b[l];
      kv_b[half * ap + c] = static_cast<float>(bias);
      for (int m = 0; m < w; ++m) {
        double sum = 0;
        for (int l = 0; l < w; ++l) sum += at(W, w, c, l) * at(term2, w, l, m);
        kv_w[static_cast<std::size_t>(m) * 2 * ap + half * ap + c] = static_cast<float>(sum);
      }
    }
  }
  // A sample without terms: every padded term row of the ONNX input is zero and all are masked,
  // so the model's softmax is uniform over identical rows and the context is value(term_enc(0)).
  ctx_empty.assign(ap, 0.f);
  for (int c = 0; c < att; ++c) {
    double sum = kv_b[ap + c];
    for (int m = 0; m < w; ++m)
      sum += double(kv_w[static_cast<std::size_t>(m) * 2 * ap + ap + c]) * std::max(term1b[m], 0.f);
    ctx_empty[c] = static_cast<float>(sum);
  }

  // Per action a = W2 h + b2 + emb[op] feeds the query (scaled by 1/sqrt(att), as the scores
  // are) and head.0's action block; both are folded onto h, with a bias row per op.
  const double scale = 1.0 / std::sqrt(double(att));
  y_w.assign(static_cast<std::size_t>(wp) * ny, 0.f);
  y_op.assign(static_cast<std::size_t>(ops) * ny, 0.f);
  auto fold_action = [&](int col, const std::vector<float>& W, int cols, int row, int offset, double s,
                         double bias) {
    for (int m = 0; m < w; ++m) {
      double sum = 0;
      for (int l = 0; l < w; ++l) sum += at(W, cols, row, offset + l) * at(action2, w, l, m);
      y_w[static_cast<std::size_t>(m) * ny + col] = static_cast<float>(s * sum);
    }
    for (int o = 0; o < ops; ++o) {
      double sum = bias;
      for (int l = 0; l < w; ++l) sum += at(W, cols, row, offset + l) * (double(action2b[l]) + at(emb, w, o, l));
      y_op[static_cast<std::size_t>(o) * ny + col] = static_cast<float>(s * sum);
    }
  };
  for (int c = 0; c < att; ++c) fold_action(c, wq, w, c, 0, scale, bq[c]);
  for (int j = 0; j < w; ++j) fold_action(ap + j, head0, H, j, 0, 1.0, 0.0);

  // head.0 = [action | context | state] blocks; the state's part is applied once per sample.
  ctx_w.assign(static_cast<std::size_t>(ap) * wp, 0.f);
  state_w.assign(static_cast<std::size_t>(wp) * wp, 0.f);
  for (int j = 0; j < w; ++j) {
    for (int c = 0; c < att; ++c)
      ctx_w[static_cast<std::size_t>(c) * wp + j] = head0[static_cast<std::size_t>(j) * H + w + c];
    for (int m = 0; m < w; ++m)
      state_w[static_cast<std::size_t>(m) * wp + j] = head0[static_cast<std::size_t>(j) * H + w + att + m];
  }
  state_b = padded_bias(head0b, w, wp);
}

Policy::Impl::Impl(Kind k, std::uint64_t seed_) : kind(k), seed(seed_) {
  origin = k == Kind::uniform ? "uniform" : "random (seed " + std::to_string(seed) + ")";
  content_hash = k == Kind::uniform ? "ablation-uniform" : "ablation-random-" + std::to_string(seed);
  meta = {{"ablation", k == Kind::uniform ? "uniform" : "random"}};
  if (k == Kind::random) meta.emplace("seed", std::to_string(seed));
}

// Uniform: 0 for every action. Random: in [0, 1), a hash of the seed, the sample's target row
// and the action's template and feature row (a candidate's identity within its state).
void Policy::Impl::ablation_logits(const PolicyBatch& b, std::vector<float>& out) const {
  auto fail = [](const std::string& why) { throw std::invalid_argument("policy batch: " + why); };
  const std::size_t S = b.samples(), A = b.total_actions();
  if (b.terms.size() != S || b.table.size() != S) fail("per-sample row counts of different lengths");
  std::size_t total = 0;
  for (int a : b.actions) {
    if (a < 0) fail("negative row count");
    total += static_cast<std::size_t>(a);
  }
  if (total != A) fail("ops has " + std::to_string(A) + " entries for " + std::to_string(total) + " actions");
  out.assign(A, 0.f);
  if (kind == Kind::uniform || A == 0) return;
  if (b.rows.target.size() % S != 0 || b.rows.actions.size() % A != 0) fail("ragged feature rows");
  const std::size_t tw = b.rows.target.size() / S, aw = b.rows.actions.size() / A;
  std::size_t a = 0;
  for (std::size_t i = 0; i < S; ++i) {
    const std::uint64_t state = hash_floats(mix(seed), b.rows.target.data() + i * tw, tw);
    for (int k = 0; k < b.actions[i]; ++k, ++a) {
      const std::uint64_t h = hash_floats(mix(state ^ static_cast<std::uint32_t>(b.rows.ops[a])),
                                          b.rows.actions.data() + a * aw, aw);
      out[a] = static_cast<float>(static_cast<double>(h >> 40) * 0x1p-24);  // 24 bits: exact in a float
    }
  }
}

// A policy whose scores are not finite ranks at random, one whose scores are all equal not at
// all; both would run to the end and look like a policy. Refused on a probe batch instead.
void Policy::Impl::check_scores(const Policy& policy, const FamilyContext& ctx) const {
  const PolicyBatch batch = probe_batch(ctx);
  if (batch.samples() == 0) return;  // no state of this family offers a choice
  std::vector<float> s;
  policy.logits(batch, s);
  if (!std::all_of(s.begin(), s.end(), [](float v) { return std::isfinite(v); }))
    throw PolicyFileError("policy " + origin + " gives non-finite scores on a probe batch");
  std::size_t at = 0;
  for (int n : batch.actions) {
    const auto [lo, hi] = std::minmax_element(s.begin() + at, s.begin() + at + n);
    at += static_cast<std::size_t>(n);
    if (*hi - *lo > 1e-6f * std::max(1.f, std::abs(*hi))) return;
  }
  throw PolicyFileError("policy " + origin + " gives the same score to every candidate of a probe batch: it cannot rank");
}

void Policy::Impl::validate(const PolicyBatch& b) const {
  auto fail = [](const std::string& why) { throw std::invalid_argument("policy batch: " + why); };
  const std::size_t S = b.actions.size();
  if (b.terms.size() != S || b.table.size() != S) fail("per-sample row counts of different lengths");
  std::size_t T = 0, K = 0, A = 0;
  for (std::size_t i = 0; i < S; ++i) {
    if (b.terms[i] < 0 || b.table[i] < 0 || b.actions[i] < 0) fail("negative row count");
    T += b.terms[i];
    K += b.table[i];
    A += b.actions[i];
  }
  auto check = [&](const char* what, std::size_t got, std::size_t rows, int width) {
    if (got != rows * width)
      fail(std::string(what) + " has " + std::to_string(got) + " values, expected " + std::to_string(rows) +
           " rows of " + std::to_string(width) + " (the policy's feature widths)");
  };
  check("target", b.rows.target.size(), S, cfg.target_dim);
  check("terms", b.rows.terms.size(), T, cfg.term_dim);
  check("table", b.rows.table.size(), K, cfg.table_dim);
  check("actions", b.rows.actions.size(), A, cfg.action_dim);
  if (b.rows.ops.size() != A)
    fail("ops has " + std::to_string(b.rows.ops.size()) + " entries for " + std::to_string(A) + " actions");
  for (std::int32_t op : b.rows.ops)
    if (op < 0 || op >= cfg.ops)
      fail("template index " + std::to_string(op) + " out of range (the policy has " + std::to_string(cfg.ops) + ")");
}

// One sample: the state's parts once (term encodings, keys and values, the state vector and its
// head contribution), then the actions in chunks. Mirrors PolicyNet.forward; masking there
// excludes padding from the means and the attention, which here simply is not in the input.
void Policy::Impl::forward(const float* target, const float* terms, int T, const float* table, int K,
                           const std::int32_t* ops, const float* actions, int A, float* out, Scratch& s) const {
  const int w = cfg.width, att = cfg.attention;
  float* vec = Scratch::get(s.vec, wp);
  float* tmp = Scratch::get(s.tmp, wp);
  float* x = Scratch::get(s.x, wp);
  kern::gemm(1, wp, cfg.target_dim, target, cfg.target_dim, target1_w.data(), wp, target1_b.data(), nullptr, vec, wp,
             true);
  kern::gemm(1, wp, w, vec, wp, target2_w.data(), wp, target2_b.data(), nullptr, x, wp, false);

  // Masked mean of an MLP's output over `n` rows: W2 mean(h) + b2; zero without rows (the
  // model divides by max(count, 1)).
  auto add_mean = [&](const float* h, int n, const std::vector<float>& w2, const std::vector<float>& b2) {
    if (n == 0) return;
    std::fill(vec, vec + wp, 0.f);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < wp; ++j) vec[j] += h[static_cast<std::size_t>(i) * wp + j];
    const float inv = 1.f / static_cast<float>(n);
    for (int j = 0; j < wp; ++j) vec[j] *= inv;
    kern::gemm(1, wp, w, vec, wp, w2.data(), wp, b2.data(), nullptr, tmp, wp, false);
    for (int j = 0; j < wp; ++j) x[j] += tmp[j];
  };

  const int tp = kern::padded(std::max(T, 1));
  const float* kv = nullptr;
  const float* kt = nullptr;
  if (T > 0) {
    float* h = Scratch::get(s.h, static_cast<std::size_t>(T) * wp);
    kern::gemm(T, wp, cfg.term_dim, terms, cfg.term_dim, term1_w.data(), wp, term1_b.data(), nullptr, h, wp, true);
    add_mean(h, T, term2_w, term2_b);
    float* kvs = Scratch::get(s.kv, static_cast<std::size_t>(T) * 2 * ap);
    kern::gemm(T, 2 * ap, w, h, wp, kv_w.data(), 2 * ap, kv_b.data(), nullptr, kvs, 2 * ap, false);
    // Keys transposed to [att, T] so that the scores of an action are one row-times-matrix.
    float* kts = Scratch::get(s.kt, static_cast<std::size_t>(ap) * tp);
    std::fill(kts, kts + static_cast<std::size_t>(ap) * tp, 0.f);
    for (int j = 0; j < T; ++j)
      for (int c = 0; c < att; ++c)
        kts[static_cast<std::size_t>(c) * tp + j] = kvs[static_cast<std::size_t>(j) * 2 * ap + c];
    kv = kvs;
    kt = kts;
  }
  if (K > 0) {
    float* h = Scratch::get(s.h, static_cast<std::size_t>(K) * wp);
    kern::gemm(K, wp, cfg.table_dim, table, cfg.table_dim, table1_w.data(), wp, table1_b.data(), nullptr, h, wp, true);
    add_mean(h, K, table2_w, table2_b);
  }

  // LayerNorm (biased variance, as torch), then the head's state block with head.0's bias.
  float* st = Scratch::get(s.state, wp);
  double mean = 0, var = 0;
  for (int j = 0; j < w; ++j) mean += x[j];
  mean /= w;
  for (int j = 0; j < w; ++j) var += (x[j] - mean) * (x[j] - mean);
  var /= w;
  const double inv_std = 1.0 / std::sqrt(var + kLayerNormEps);
  std::fill(st, st + wp, 0.f);
  for (int j = 0; j < w; ++j) st[j] = static_cast<float>((x[j] - mean) * inv_std * ln_g[j] + ln_b[j]);
  float* sp = Scratch::get(s.sp, wp);
  kern::gemm(1, wp, w, st, wp, state_w.data(), wp, state_b.data(), nullptr, sp, wp, false);

  float* h1 = Scratch::get(s.h1, static_cast<std::size_t>(kChunk) * wp);
  float* y = Scratch::get(s.y, static_cast<std::size_t>(kChunk) * ny);
  float* sc = Scratch::get(s.s, static_cast<std::size_t>(kChunk) * tp);
  float* cx = Scratch::get(s.cx, static_cast<std::size_t>(kChunk) * ap);
  float* z = Scratch::get(s.z, static_cast<std::size_t>(kChunk) * wp);
  float inv[kChunk];
  for (int a0 = 0; a0 < A; a0 += kChunk) {
    const int n = std::min(kChunk, A - a0);
    kern::gemm(n, wp, cfg.action_dim, actions + static_cast<std::size_t>(a0) * cfg.action_dim, cfg.action_dim,
               action1_w.data(), wp, action1_b.data(), nullptr, h1, wp, true);
    kern::gemm(n, ny, w, h1, wp, y_w.data(), ny, y_op.data(), ops + a0, y, ny, false);
    if (T > 0) {
      kern::gemm(n, tp, att, y, ny, kt, tp, nullptr, nullptr, sc, tp, false);
      kern::softmax_rows(sc, n, T, tp, inv);
      kern::gemm(n, ap, T, sc, tp, kv + ap, 2 * ap, nullptr, nullptr, cx, ap, false);
      for (int i = 0; i < n; ++i)
        for (int c = 0; c < ap; ++c) cx[static_cast<std::size_t>(i) * ap + c] *= inv[i];
    } else {
      for (int i = 0; i < n; ++i) std::copy(ctx_empty.begin(), ctx_empty.end(), cx + static_cast<std::size_t>(i) * ap);
    }
    kern::gemm(n, wp, att, cx, ap, ctx_w.data(), wp, sp, nullptr, z, wp, false);
    kern::head_logits(z, wp, y + ap, ny, out_w.data(), out_b, n, wp, out + a0);
  }
}

void PolicyBatch::clear() {
  rows.target.clear();
  rows.terms.clear();
  rows.table.clear();
  rows.actions.clear();
  rows.ops.clear();
  terms.clear();
  table.clear();
  actions.clear();
}

void PolicyBatch::append(const PolicyBatch& o) {
  auto cat = [](auto& a, const auto& b) { a.insert(a.end(), b.begin(), b.end()); };
  cat(rows.target, o.rows.target);
  cat(rows.terms, o.rows.terms);
  cat(rows.table, o.rows.table);
  cat(rows.actions, o.rows.actions);
  cat(rows.ops, o.rows.ops);
  cat(terms, o.terms);
  cat(table, o.table);
  cat(actions, o.actions);
}

void PolicyBatch::add(const ReductionState& state, const Integral& target, const std::vector<Candidate>& cands) {
  state.features(target, cands, rows);
  terms.push_back(static_cast<int>(state.expression().size()));
  table.push_back(static_cast<int>(state.table().size()));
  actions.push_back(static_cast<int>(cands.size()));
}

Policy::Policy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Policy::Policy(Policy&&) noexcept = default;
Policy& Policy::operator=(Policy&&) noexcept = default;
Policy::~Policy() = default;

Policy Policy::load_bytes(std::string_view bytes, const std::string& origin) {
  return Policy(std::make_unique<Impl>(bytes, origin));
}

Policy Policy::load_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw PolicyFileError("policy file " + path + " does not exist");
  if (std::filesystem::is_directory(path, ec)) throw PolicyFileError("policy file " + path + " is a directory");
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) throw PolicyFileError("policy file " + path + " cannot be read");
  return load_bytes(bytes, path);
}

Policy Policy::uniform() { return Policy(std::make_unique<Impl>(Kind::uniform, 0)); }

Policy Policy::random(std::uint64_t seed) { return Policy(std::make_unique<Impl>(Kind::random, seed)); }

void Policy::check_choice(const std::string& spec, std::optional<std::uint64_t> seed) {
  if (spec == "random" && !seed) throw std::invalid_argument("policy 'random' needs a seed (--seed S)");
  if (seed && spec != "random") throw std::invalid_argument("a seed (--seed) is only for policy 'random'");
}

Policy Policy::choose(const std::string& spec, std::optional<std::uint64_t> seed, const std::string& family_name,
                      const std::string& family_hash) {
  check_choice(spec, seed);
  if (spec.empty()) return builtin(family_name, family_hash);
  if (spec == "uniform") return uniform();
  if (spec == "random") return random(*seed);
  return load_file(spec);
}

Policy Policy::builtin(const std::string& family_name, const std::string& family_hash) {
  if (!family_hash.empty())
    for (auto& [name, bytes] : builtin_policy_files()) {
      Policy p = load_bytes(bytes, "built-in " + std::string(name) + ".onnx");
      const auto it = p.metadata().find("family_hash");
      if (it != p.metadata().end() && it->second == family_hash) return p;
    }
  std::string names;
  for (auto& [name, bytes] : builtin_policy_files()) {
    if (name == family_name) return load_bytes(bytes, "built-in " + std::string(name) + ".onnx");
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  throw PolicyFileError("no built-in policy for family '" + family_name + "' (built-in policies: " +
                        (names.empty() ? "none" : names) + ")");
}

const std::map<std::string, std::string>& Policy::metadata() const { return impl_->meta; }
bool Policy::ranks_alone() const {
  const auto it = impl_->meta.find("ranking");
  return it != impl_->meta.end() && it->second == "policy";
}

const std::string& Policy::content_hash() const { return impl_->content_hash; }

const std::string& Policy::family_name() const {
  static const std::string none;
  auto it = impl_->meta.find("family");
  return it == impl_->meta.end() ? none : it->second;
}

std::size_t Policy::parameters() const { return impl_->params; }

bool Policy::is_ablation() const { return impl_->kind != Kind::network; }
const PolicyWeights* Policy::weights() const { return is_ablation() ? nullptr : impl_.get(); }
void Policy::validate(const PolicyBatch& batch) const { impl_->validate(batch); }

void Policy::check_compatible(const FamilyContext& ctx, const std::string& family_name) const {
  if (is_ablation()) return;  // reads no features' meaning: fits any family
  // Same checks and wording as sailir.policy.policy_file.check_compatible.
  const auto& meta = impl_->meta;
  auto get = [&](const char* key) {
    auto it = meta.find(key);
    return it == meta.end() ? std::string("?") : it->second;
  };
  const std::string& origin = impl_->origin;
  if (get("family_hash") != ctx.family_hash())
    throw PolicyMismatchError("policy " + origin + " was exported for family '" + get("family") + "' (hash " +
                              short_hash(get("family_hash")) + "), not for " +
                              (family_name.empty() ? std::string("this family") : "'" + family_name + "'") + " (hash " +
                              short_hash(ctx.family_hash()) + ")");
  const std::pair<const char*, std::string> wanted[] = {{"identities_version", std::to_string(kIdentitiesVersion)},
                                                        {"features_version", std::to_string(kFeaturesVersion)},
                                                        {"feature_spec", feature_spec(ctx.n())}};
  for (auto& [key, want] : wanted)
    if (get(key) != want) {
      std::string what = key;
      std::replace(what.begin(), what.end(), '_', ' ');
      throw PolicyMismatchError("policy " + origin + " was made with another " + what + " (" + get(key) +
                                " != " + want + ")");
    }
  // Implied by the above for a well-formed file; checked because the kernels rely on them.
  const FeatureDims d(ctx.n());
  const PolicyConfig& c = impl_->cfg;
  if (c.target_dim != d.target || c.term_dim != d.term || c.table_dim != d.table || c.action_dim != d.action ||
      c.ops != ctx.identities().size())
    throw PolicyMismatchError("policy " + origin + " has feature widths or a template count (" + std::to_string(c.ops) +
                              ") other than the family's (" + std::to_string(ctx.identities().size()) + ")");
  impl_->check_scores(*this, ctx);
}

void Policy::logits(const PolicyBatch& batch, std::vector<float>& out, int threads) const {
  const Impl& p = *impl_;
  if (p.kind != Kind::network) return p.ablation_logits(batch, out);
  p.validate(batch);
  out.resize(batch.total_actions());
  const std::size_t S = batch.samples();
  // Row offsets of every sample.
  std::vector<std::size_t> t0(S + 1, 0), k0(S + 1, 0), a0(S + 1, 0);
  double cost = 0;
  for (std::size_t i = 0; i < S; ++i) {
    t0[i + 1] = t0[i] + batch.terms[i];
    k0[i + 1] = k0[i] + batch.table[i];
    a0[i + 1] = a0[i] + batch.actions[i];
    cost += p.cost(batch.terms[i], batch.table[i], batch.actions[i]);
  }
  const FeatureRows& r = batch.rows;
  auto sample = [&](std::size_t i, Scratch& s) {
    p.forward(r.target.data() + i * p.cfg.target_dim, r.terms.data() + t0[i] * p.cfg.term_dim, batch.terms[i],
              r.table.data() + k0[i] * p.cfg.table_dim, batch.table[i], r.ops.data() + a0[i],
              r.actions.data() + a0[i] * p.cfg.action_dim, batch.actions[i], out.data() + a0[i], s);
  };
  thread_local Scratch local;  // the caller's scratch survives between calls
  const std::size_t parts = std::min(static_cast<std::size_t>(std::max(threads, 1)), S);
  if (parts <= 1 || cost < kMinParallelMacs) {
    for (std::size_t i = 0; i < S; ++i) sample(i, local);
    return;
  }
  // Workers take the next sample until none is left: balanced whatever the samples' sizes, and
  // when a core is busy with something else. Each sample is computed the same way by whichever
  // thread takes it, so the scores do not depend on the thread count.
  std::atomic<std::size_t> next{0};
  auto work = [&](Scratch& s) {
    for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < S;) sample(i, s);
  };
  std::vector<std::exception_ptr> errors(parts);
  {
    std::vector<std::jthread> pool;  // joined on scope exit, also if starting one fails
    pool.reserve(parts - 1);
    for (std::size_t q = 1; q < parts; ++q)
      pool.emplace_back([&, q] {
        try {
          Scratch s;
          work(s);
        } catch (...) {
          errors[q] = std::current_exception();
        }
      });
    try {
      work(local);
    } catch (...) {
      errors[0] = std::current_exception();
    }
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

void Policy::log_probs(const PolicyBatch& batch, std::vector<float>& out, int threads) const {
  logits(batch, out, threads);
  normalize(batch.actions, out);
}

void Policy::normalize(const std::vector<int>& actions, std::vector<float>& out) {
  std::size_t at = 0;
  for (int n : actions) {
    float* x = out.data() + at;
    at += static_cast<std::size_t>(n);
    if (n == 0) continue;
    const float m = *std::max_element(x, x + n);
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += std::exp(double(x[i]) - m);
    const double lse = m + std::log(sum);
    for (int i = 0; i < n; ++i) x[i] = static_cast<float>(x[i] - lse);
  }
}

}  // namespace sailir
