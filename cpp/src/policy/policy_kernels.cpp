// Compiled with -O3 -ffp-contract=fast (CMakeLists.txt). The kernels are written once with
// GCC/Clang vector extensions of W floats and instantiated for the widest registers of each
// x86-64 level: W = 16 with AVX-512, 8 with AVX2+FMA, 4 with SSE2 (and on other processors),
// chosen by the CPU at first use. W must match the target: GCC keeps wider vectors than the
// target has on the stack (10-30x slower), and it does not keep scalar [rows][16] accumulators
// in registers either, hence explicit vectors rather than auto-vectorised loops.
#include "policy/policy_kernels.hpp"

#include <cfloat>
#include <cstring>
#include <string_view>

namespace sailir::policy_kernels {

namespace {

#define SAILIR_INLINE inline __attribute__((always_inline))


// Vector types of W lanes (GCC ignores a vector_size that depends on a template parameter).
typedef float F4 __attribute__((vector_size(16)));
typedef float F8 __attribute__((vector_size(32)));
typedef float F16 __attribute__((vector_size(64)));
typedef std::int32_t I4 __attribute__((vector_size(16)));
typedef std::int32_t I8 __attribute__((vector_size(32)));
typedef std::int32_t I16 __attribute__((vector_size(64)));
template <int W>
struct Lanes;
template <>
struct Lanes<4> {
  using F = F4;
  using I = I4;
};
template <>
struct Lanes<8> {
  using F = F8;
  using I = I8;
};
template <>
struct Lanes<16> {
  using F = F16;
  using I = I16;
};

template <int W>
struct Kernels {
  static_assert(kLane % W == 0);
  static constexpr int kParts = kLane / W;  // vectors per kLane columns
  // Rows of C per register block: accumulators fill about half the register file (SSE: 8 of 16,
  // AVX2: 12 of 16, AVX-512: 8 of 32), enough independent FMA chains to hide their latency.
  // Each divides the policy's action chunk (48), so action rows have no tail.
  static constexpr int kRows = W == 16 ? 8 : W == 8 ? 6 : 4;
  using Vec = typename Lanes<W>::F;
  using IVec = typename Lanes<W>::I;

  // By reference and through memcpy: unaligned, no aliasing questions, and no vector-typed
  // return values (an ABI question where the baseline target lacks the registers).
  static SAILIR_INLINE void load(Vec& v, const float* p) { std::memcpy(&v, p, sizeof v); }
  static SAILIR_INLINE void store(float* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }

  // MR rows x kLane columns of C accumulated in registers, so each row of B loaded serves MR
  // rows of A.
  template <int MR>
  static SAILIR_INLINE void block(int K, const float* A, int lda, const float* B, int ldb, const float* const* bias,
                                  float* C, int ldc, bool relu) {
    Vec acc[MR][kParts];
    for (int r = 0; r < MR; ++r)
      for (int p = 0; p < kParts; ++p) {
        acc[r][p] = Vec{};
        if (bias[r]) load(acc[r][p], bias[r] + p * W);
      }
    for (int k = 0; k < K; ++k) {
      Vec b[kParts];
      for (int p = 0; p < kParts; ++p) load(b[p], B + static_cast<std::ptrdiff_t>(k) * ldb + p * W);
      for (int r = 0; r < MR; ++r) {
        const float a = A[static_cast<std::ptrdiff_t>(r) * lda + k];
        for (int p = 0; p < kParts; ++p) acc[r][p] += a * b[p];
      }
    }
    const Vec zero{};
    for (int r = 0; r < MR; ++r)
      for (int p = 0; p < kParts; ++p) {
        if (relu) acc[r][p] = acc[r][p] > zero ? acc[r][p] : zero;
        store(C + static_cast<std::ptrdiff_t>(r) * ldc + p * W, acc[r][p]);
      }
  }

  // Rows i..i+R-1 of C, all column blocks.
  template <int R>
  static SAILIR_INLINE void rows(int i, int N, int K, const float* A, int lda, const float* B, int ldb,
                                 const float* bias, const std::int32_t* bias_rows, float* C, int ldc, bool relu) {
    for (int j = 0; j < N; j += kLane) {
      const float* b[R];
      for (int r = 0; r < R; ++r)
        b[r] = !bias ? nullptr : (bias_rows ? bias + static_cast<std::ptrdiff_t>(bias_rows[i + r]) * N : bias) + j;
      block<R>(K, A + static_cast<std::ptrdiff_t>(i) * lda, lda, B + j, ldb, b,
               C + static_cast<std::ptrdiff_t>(i) * ldc + j, ldc, relu);
    }
  }

  static SAILIR_INLINE void gemm(int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                                 const float* bias, const std::int32_t* bias_rows, float* C, int ldc, bool relu) {
    int i = 0;
    for (; i + kRows <= M; i += kRows) rows<kRows>(i, N, K, A, lda, B, ldb, bias, bias_rows, C, ldc, relu);
    switch (M - i) {
      case 1: rows<1>(i, N, K, A, lda, B, ldb, bias, bias_rows, C, ldc, relu); break;
      case 2: rows<2>(i, N, K, A, lda, B, ldb, bias, bias_rows, C, ldc, relu); break;
      case 3: rows<3>(i, N, K, A, lda, B, ldb, bias, bias_rows, C, ldc, relu); break;
      case 4: rows<4>(i, N, K, A, lda, B, ldb, bias, bias_rows, C, ldc, relu); break;
      case 5: rows<5>(i, N, K, A, lda, B, ldb, bias, bias_rows, C, ldc, relu); break;
      case 6: rows<6>(i, N, K, A, lda, B, ldb, bias, bias_rows, C, ldc, relu); break;
      case 7: rows<7>(i, N, K, A, lda, B, ldb, bias, bias_rows, C, ldc, relu); break;
      default: break;
    }
  }

  // exp(x) for x <= 0 (softmax numerators): Cephes' expf polynomial with a float magic-number
  // rounding, on whole vectors (libm's expf is scalar: a call per score would cost more than
  // the attention's multiply-adds). About 1 ulp; 0 below -87, where expf reaches the denormals.
  static SAILIR_INLINE void exp_nonpositive(Vec& x) {
    const Vec lo = Vec{} - 87.0f;
    const Vec xc = x < lo ? lo : x;
    const float magic = 12582912.f;  // 1.5 * 2^23: adding it rounds to an integer
    const Vec n = (xc * 1.44269504088896341f + magic) - magic;
    Vec r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    const Vec z = r * r;
    Vec p = r * 1.9875691500E-4f + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * z + r + 1.0f;
    const IVec e = (__builtin_convertvector(n, IVec) + 127) << 23;
    Vec scale;
    std::memcpy(&scale, &e, sizeof scale);  // the bits of 2^n
    x = x < lo ? Vec{} : p * scale;
  }

  // Horizontal max and sum by halving (W -> W/2 -> ... -> 1): few shuffles instead of W - 1
  // dependent steps, and a fixed order, so a row's result does not depend on the batch or the
  // thread split.
  static SAILIR_INLINE float hmax(const Vec& v) {
    float t[W];
    std::memcpy(t, &v, sizeof t);
    for (int h = W / 2; h >= 1; h /= 2)
      for (int l = 0; l < h; ++l) t[l] = t[l + h] > t[l] ? t[l + h] : t[l];
    return t[0];
  }
  static SAILIR_INLINE float hsum(const Vec& v) {
    float t[W];
    std::memcpy(t, &v, sizeof t);
    for (int h = W / 2; h >= 1; h /= 2)
      for (int l = 0; l < h; ++l) t[l] += t[l + h];
    return t[0];
  }

  static SAILIR_INLINE void softmax_rows(float* S, int rows, int n, int ld, float* inv) {
    // Whole vectors up to the last one holding a real column; its padding lanes take no part.
    // (Masked in registers: scalar stores into the padding, then a vector load of it, would
    // stall store forwarding.)
    const int last = (n - 1) / W * W;  // ld >= last + W: rows are padded to kLane
    IVec lane;
    for (int l = 0; l < W; ++l) lane[l] = l;
    const IVec valid = lane < (n - last);
    const Vec lowest = Vec{} - FLT_MAX;
    for (int i = 0; i < rows; ++i) {
      float* s = S + static_cast<std::ptrdiff_t>(i) * ld;
      Vec m, v;
      load(m, s + last);
      m = valid ? m : lowest;
      for (int j = 0; j < last; j += W) {
        load(v, s + j);
        m = v > m ? v : m;
      }
      const float mx = hmax(m);
      Vec sum{};
      for (int j = 0; j <= last; j += W) {
        load(v, s + j);
        v -= mx;
        exp_nonpositive(v);
        if (j == last) v = valid ? v : Vec{};
        sum += v;
        store(s + j, v);
      }
      inv[i] = 1.f / hsum(sum);  // the sum is >= 1: the maximum contributes exp(0)
    }
  }

  static SAILIR_INLINE void head_logits(const float* Z, int ldz, const float* Y, int ldy, const float* w, float b,
                                        int rows, int n, float* out) {
    for (int i = 0; i < rows; ++i) {
      const float* z = Z + static_cast<std::ptrdiff_t>(i) * ldz;
      const float* y = Y + static_cast<std::ptrdiff_t>(i) * ldy;
      Vec sum{}, zv, yv, wv;
      for (int j = 0; j < n; j += W) {
        load(zv, z + j);
        load(yv, y + j);
        load(wv, w + j);
        const Vec h = zv + yv;
        sum += wv * (h > Vec{} ? h : Vec{});
      }
      out[i] = b + hsum(sum);
    }
  }
};

// One instantiation per instruction set; the wrappers carry the target attribute, and the
// always-inline kernels are compiled for it.
#define SAILIR_KERNEL_SET(suffix, attr, W)                                                                 \
  attr void gemm_##suffix(int M, int N, int K, const float* A, int lda, const float* B, int ldb,           \
                          const float* bias, const std::int32_t* bias_rows, float* C, int ldc, bool relu) { \
    Kernels<W>::gemm(M, N, K, A, lda, B, ldb, bias, bias_rows, C, ldc, relu);                              \
  }                                                                                                        \
  attr void softmax_##suffix(float* S, int rows, int n, int ld, float* inv) {                             \
    Kernels<W>::softmax_rows(S, rows, n, ld, inv);                                                         \
  }                                                                                                        \
  attr void head_##suffix(const float* Z, int ldz, const float* Y, int ldy, const float* w, float b, int rows, \
                          int n, float* out) {                                                             \
    Kernels<W>::head_logits(Z, ldz, Y, ldy, w, b, rows, n, out);                                           \
  }

SAILIR_KERNEL_SET(base, , 4)
#if defined(__x86_64__)
SAILIR_KERNEL_SET(avx2, __attribute__((target("avx2,fma"))), 8)
SAILIR_KERNEL_SET(avx512, __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))), 16)
#endif

struct Dispatch {
  const char* isa = "sse2";
  decltype(&gemm_base) gemm = gemm_base;
  decltype(&softmax_base) softmax = softmax_base;
  decltype(&head_base) head = head_base;
};

bool supported(std::string_view isa) {
  if (isa == "sse2") return true;
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == "avx2") return avx2;
  if (isa == "avx512")
    return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
#endif
  return false;
}

Dispatch make(std::string_view isa) {
#if defined(__x86_64__)
  if (isa == "avx512") return {"avx512", gemm_avx512, softmax_avx512, head_avx512};
  if (isa == "avx2") return {"avx2", gemm_avx2, softmax_avx2, head_avx2};
#endif
  (void)isa;
  return {};
}

Dispatch& kernels() {
  static Dispatch d = make(supported("avx512") ? "avx512" : supported("avx2") ? "avx2" : "sse2");
  return d;
}

}  // namespace

void gemm(int M, int N, int K, const float* A, int lda, const float* B, int ldb, const float* bias,
          const std::int32_t* bias_rows, float* C, int ldc, bool relu) {
  kernels().gemm(M, N, K, A, lda, B, ldb, bias, bias_rows, C, ldc, relu);
}

void softmax_rows(float* S, int rows, int n, int ld, float* inv) { kernels().softmax(S, rows, n, ld, inv); }

const char* isa() { return kernels().isa; }

bool use_isa(std::string_view name) {
  if (!supported(name)) return false;
  kernels() = make(name);
  return true;
}

void head_logits(const float* Z, int ldz, const float* Y, int ldy, const float* w, float b, int rows, int n,
                 float* out) {
  kernels().head(Z, ldz, Y, ldy, w, b, rows, n, out);
}

}  // namespace sailir::policy_kernels
