#include "policy/batched_forward.hpp"

#include "policy/policy_kernels.hpp"

namespace sailir {

BatchLayout::BatchLayout(const PolicyBatch& b) : term_begin{0}, table_begin{0}, action_begin{0} {
  for (std::size_t s = 0; s < b.samples(); ++s) {
    term_begin.push_back(term_begin.back() + b.terms[s]);
    table_begin.push_back(table_begin.back() + b.table[s]);
    action_begin.push_back(action_begin.back() + b.actions[s]);
    action_sample.insert(action_sample.end(), b.actions[s], static_cast<std::int32_t>(s));
  }
}

namespace {

namespace kern = policy_kernels;

// x += W2 mean(H over each sample's rows) + b2, for the samples that have rows.
void add_means(const PolicyWeights& w, const float* H, const std::int32_t* begin, int S, const std::vector<float>& w2,
               const std::vector<float>& b2, std::vector<float>& x) {
  std::vector<float> mean(static_cast<std::size_t>(S) * w.wp), tmp(mean.size());
  for (int s = 0; s < S; ++s)
    for (int j = 0; j < w.wp; ++j) batched::segment_mean(H, w.wp, begin, s, j, mean.data(), w.wp);
  kern::gemm(S, w.wp, w.cfg.width, mean.data(), w.wp, w2.data(), w.wp, b2.data(), nullptr, tmp.data(), w.wp, false);
  for (int s = 0; s < S; ++s)
    for (int j = 0; j < w.wp; ++j) batched::add_where_rows(x.data(), tmp.data(), w.wp, begin, s, j);
}

}  // namespace

void batched_logits(const PolicyWeights& w, const PolicyBatch& batch, std::vector<float>& out) {
  const BatchLayout L(batch);
  const int S = L.samples(), T = L.terms(), K = L.table(), A = L.actions(), wp = w.wp, ap = w.ap, ny = w.ny;
  const PolicyConfig& c = w.cfg;
  const FeatureRows& r = batch.rows;
  std::vector<float> h(static_cast<std::size_t>(std::max({S, T, K})) * wp), x(static_cast<std::size_t>(S) * wp);
  kern::gemm(S, wp, c.target_dim, r.target.data(), c.target_dim, w.target1_w.data(), wp, w.target1_b.data(), nullptr,
             h.data(), wp, true);
  kern::gemm(S, wp, c.width, h.data(), wp, w.target2_w.data(), wp, w.target2_b.data(), nullptr, x.data(), wp, false);
  std::vector<float> kv(static_cast<std::size_t>(T) * 2 * ap);
  if (T > 0) {
    kern::gemm(T, wp, c.term_dim, r.terms.data(), c.term_dim, w.term1_w.data(), wp, w.term1_b.data(), nullptr, h.data(),
               wp, true);
    add_means(w, h.data(), L.term_begin.data(), S, w.term2_w, w.term2_b, x);
    kern::gemm(T, 2 * ap, c.width, h.data(), wp, w.kv_w.data(), 2 * ap, w.kv_b.data(), nullptr, kv.data(), 2 * ap,
               false);
  }
  if (K > 0) {
    kern::gemm(K, wp, c.table_dim, r.table.data(), c.table_dim, w.table1_w.data(), wp, w.table1_b.data(), nullptr,
               h.data(), wp, true);
    add_means(w, h.data(), L.table_begin.data(), S, w.table2_w, w.table2_b, x);
  }
  std::vector<float> st(static_cast<std::size_t>(S) * wp), sp(st.size());
  for (int s = 0; s < S; ++s)
    batched::layer_norm(x.data() + static_cast<std::size_t>(s) * wp, c.width, wp, w.ln_g.data(), w.ln_b.data(),
                        st.data() + static_cast<std::size_t>(s) * wp);
  kern::gemm(S, wp, c.width, st.data(), wp, w.state_w.data(), wp, w.state_b.data(), nullptr, sp.data(), wp, false);

  std::vector<float> h1(static_cast<std::size_t>(A) * wp), y(static_cast<std::size_t>(A) * ny),
      cx(static_cast<std::size_t>(A) * ap), z(static_cast<std::size_t>(A) * wp);
  out.resize(A);
  if (A == 0) return;
  kern::gemm(A, wp, c.action_dim, r.actions.data(), c.action_dim, w.action1_w.data(), wp, w.action1_b.data(), nullptr,
             h1.data(), wp, true);
  kern::gemm(A, ny, c.width, h1.data(), wp, w.y_w.data(), ny, w.y_op.data(), r.ops.data(), y.data(), ny, false);
  for (int a = 0; a < A; ++a)
    batched::attend(y.data(), ny, kv.data(), ap, c.attention, L.term_begin.data(), L.action_sample.data(),
                    w.ctx_empty.data(), a, cx.data());
  kern::gemm(A, wp, c.attention, cx.data(), ap, w.ctx_w.data(), wp, sp.data(), L.action_sample.data(), z.data(), wp,
             false);
  for (int a = 0; a < A; ++a)
    out[a] = batched::head_logit(z.data(), wp, y.data(), ny, ap, w.out_w.data(), w.out_b, wp, a);
}

}  // namespace sailir
