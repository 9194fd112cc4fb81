// Rational-function reconstruction: each routine against random inputs (univariate and lower-set
// interpolation, Thiele, Cauchy, Taylor shifts, CRT and rational reconstruction), then whole
// reconstructions from black boxes built on known functions, the text form and the failure modes.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "check.hpp"
#include "reconstruct/field_poly.hpp"
#include "reconstruct/multivariate.hpp"
#include "reconstruct/rational_numbers.hpp"
#include "reconstruct/reconstruct.hpp"

using namespace sailir;
using namespace sailir::recon;

namespace {

std::mt19937_64 rng(20240611);
const nmod_t kMod{kDefaultPrime};
const Field kField(kMod);

u64 rnd() { return rng() % kMod.n; }

Poly random_poly(int degree) {
  Poly p(static_cast<std::size_t>(degree) + 1);
  for (u64& c : p) c = rnd();
  if (p.back() == 0) p.back() = 1;
  return p;
}

std::vector<u64> distinct(std::size_t n) {
  std::vector<u64> v;
  while (v.size() < n) {
    u64 x = rnd();
    if (x != 0 && std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
  }
  return v;
}

// A random integer of up to `digits` decimal digits, nonzero, random sign.
Integer random_integer(int digits) {
  std::string s = (rng() & 1) ? "-" : "";
  int n = (digits + 1) / 2 + static_cast<int>(rng() % static_cast<u64>(digits / 2 + 1));
  s += static_cast<char>('1' + rng() % 9);
  for (int i = 1; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
  return Integer(s);
}

// A random polynomial in v variables of total degree <= degree with `terms` terms (fewer if
// they collide), always with the given top-degree term so that the degree is exact.
Polynomial random_polynomial(int v, int degree, int terms, int digits, bool constant_term) {
  std::vector<std::pair<std::vector<int>, Integer>> t;
  std::vector<int> top(static_cast<std::size_t>(v), 0);
  if (v > 0) top[rng() % static_cast<u64>(v)] = degree;
  t.emplace_back(top, random_integer(digits));
  if (constant_term) t.emplace_back(std::vector<int>(static_cast<std::size_t>(v), 0), random_integer(digits));
  for (int k = 0; k < terms; ++k) {
    std::vector<int> e(static_cast<std::size_t>(v), 0);
    int left = static_cast<int>(rng() % static_cast<u64>(degree + 1));
    for (int i = 0; i < v && left > 0; ++i) {
      int x = i + 1 == v ? left : static_cast<int>(rng() % static_cast<u64>(left + 1));
      e[static_cast<std::size_t>(i)] = x;
      left -= x;
    }
    t.emplace_back(e, random_integer(digits));
  }
  return make_polynomial(v, std::move(t));
}

Polynomial constant(int v, long c) {
  return make_polynomial(v, {{std::vector<int>(static_cast<std::size_t>(v), 0), Integer(c)}});
}

Polynomial times(const Polynomial& a, const Polynomial& b) {
  std::vector<std::pair<std::vector<int>, Integer>> t;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) {
      std::vector<int> e(a.exponent(i).begin(), a.exponent(i).end());
      for (std::size_t k = 0; k < e.size(); ++k) e[k] += b.exponent(j)[k];
      Integer c;
      mpz_mul(c.get(), a.coefficients[i].get(), b.coefficients[j].get());
      t.emplace_back(std::move(e), std::move(c));
    }
  return make_polynomial(a.variables, std::move(t));
}

// ---- routines over F_p ----

void test_field() {
  for (u64 p : {kDefaultPrime, kCheckPrimes[3], u64{2305843009213693951ULL}, u64{4294967291ULL}, u64{65537}, u64{3}}) {
    const nmod_t m{p};
    const Field f(m);
    for (int i = 0; i < 5000; ++i) {
      u64 a = rng() % p, b = i < 10 ? p - 1 - static_cast<u64>(i) % p : rng() % p;
      CHECK(f.mul(a, b) == nmod_mul(a, b, m));
      CHECK(f.shoup(a).pre == nmod_mul_precomp(a, m) && f.shoup(a).mul(b, m) == nmod_mul(a, b, m));
    }
    CHECK(f.mul(p - 1, p - 1) == 1);
  }
}

void test_newton() {
  for (int rep = 0; rep < 50; ++rep) {
    int n = 1 + static_cast<int>(rng() % 40);
    NodeSet nodes(distinct(static_cast<std::size_t>(n) + 3), kMod);
    Poly p = random_poly(n - 1);
    std::vector<u64> y(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = poly_evaluate(p, nodes.node(i), kField);
    nodes.interpolate(y);
    CHECK(y == p);
    const Poly& m = nodes.node_polynomial(static_cast<std::size_t>(n));
    CHECK(poly_evaluate(m, nodes.node(static_cast<std::size_t>(n) - 1), kField) == 0);
    CHECK(poly_evaluate(m, nodes.node(static_cast<std::size_t>(n)), kField) != 0);
  }
  CHECK_THROWS(NodeSet({1, 2, 1}, kMod));
}

void test_poly_ops() {
  for (int rep = 0; rep < 50; ++rep) {
    Poly a = random_poly(static_cast<int>(rng() % 20)), b = random_poly(static_cast<int>(rng() % 10));
    Poly g = random_poly(static_cast<int>(rng() % 5));
    Poly r = a, q;
    poly_divrem(q, r, b, kField);
    CHECK(poly_degree(r) < poly_degree(b));
    u64 x = rnd();
    CHECK(poly_evaluate(a, x, kField) ==
          nmod_add(nmod_mul(poly_evaluate(q, x, kField), poly_evaluate(b, x, kField), kMod), poly_evaluate(r, x, kField), kMod));
    // gcd(a g, b g) has the degree of g (a and b random: coprime with high probability).
    Poly ag, bg;
    poly_submul(ag, a, g, kField);
    poly_submul(bg, b, g, kField);
    CHECK(poly_gcd_degree(ag, bg, kField) == poly_degree(g));
  }
}

void test_cauchy() {
  for (int rep = 0; rep < 100; ++rep) {
    int dn = static_cast<int>(rng() % 12), dd = static_cast<int>(rng() % 12);
    Poly num = random_poly(dn), den = random_poly(dd);
    den[0] = 1;
    if (rep % 10 == 0) num.assign(1, 0), dn = 0;  // the zero function
    NodeSet nodes(distinct(static_cast<std::size_t>(dn + dd + 1)), kMod);
    std::vector<u64> y;
    for (u64 t : nodes.nodes())
      y.push_back(nmod_mul(poly_evaluate(num, t, kField), nmod_inv(poly_evaluate(den, t, kField), kMod), kMod));
    Poly n2, d2;
    CHECK(rational_interpolate(nodes, y, dn, dd, n2, d2));
    if (rep % 10 == 0) CHECK(n2 == Poly{0} && d2[0] == 1);
    else CHECK(n2 == num && d2 == den);
    // Over-estimated degrees still give the function (padded with zeros).
    NodeSet more(distinct(static_cast<std::size_t>(dn + dd + 5)), kMod);
    y.clear();
    for (u64 t : more.nodes())
      y.push_back(nmod_mul(poly_evaluate(num, t, kField), nmod_inv(poly_evaluate(den, t, kField), kMod), kMod));
    CHECK(rational_interpolate(more, y, dn + 2, dd + 2, n2, d2));
    u64 x = rnd();
    CHECK(nmod_mul(poly_evaluate(n2, x, kField), poly_evaluate(den, x, kField), kMod) ==
          nmod_mul(poly_evaluate(num, x, kField), poly_evaluate(d2, x, kField), kMod));
  }
}

void test_thiele() {
  for (int rep = 0; rep < 100; ++rep) {
    int dn = static_cast<int>(rng() % 10), dd = static_cast<int>(rng() % 10);
    Poly num = random_poly(dn), den = random_poly(dd);
    if (rep % 10 == 0) num = {rnd()}, dn = 0, den = {1}, dd = 0;  // constants, 0 included
    if (num == Poly{0}) dd = 0;
    Thiele th(kMod);
    int points = 0;
    while (th.agreements() < 3) {
      u64 t = rnd();
      u64 d = poly_evaluate(den, t, kField);
      if (d == 0) continue;
      th.add(t, nmod_mul(poly_evaluate(num, t, kField), nmod_inv(d, kMod), kMod));
      ++points;
    }
    CHECK(th.degrees() == std::make_pair(dn, dd));
    CHECK(points <= 2 * std::max(dn, dd) + 2 + 3);
    u64 x = rnd();
    CHECK(nmod_mul(poly_evaluate(th.numerator(), x, kField), poly_evaluate(den, x, kField), kMod) ==
          nmod_mul(poly_evaluate(num, x, kField), poly_evaluate(th.denominator(), x, kField), kMod));
  }
}

// A dense random polynomial with support in the set, as a box.
std::vector<u64> random_on(const LowerSet& s) {
  std::vector<u64> box(s.box_size(), 0);
  s.for_each([&](std::span<const int>, int, std::size_t idx) { box[idx] = rnd(); });
  return box;
}

u64 box_evaluate(const LowerSet& s, const std::vector<u64>& box, std::span<const u64> x) {
  u64 sum = 0;
  s.for_each([&](std::span<const int> a, int, std::size_t idx) {
    u64 term = box[idx];
    for (std::size_t d = 0; d < a.size(); ++d) term = nmod_mul(term, nmod_pow(x[d], static_cast<u64>(a[d]), kMod), kMod);
    sum = nmod_add(sum, term, kMod);
  });
  return sum;
}

void test_lower_sets() {
  for (int rep = 0; rep < 40; ++rep) {
    int dims = static_cast<int>(rng() % 4);
    std::vector<int> bound;
    for (int d = 0; d < dims; ++d) bound.push_back(static_cast<int>(rng() % 7));
    LowerSet s(bound, static_cast<int>(rng() % 9));
    std::vector<NodeSet> grids;
    for (int d = 0; d < dims; ++d) grids.emplace_back(distinct(10), kMod);
    std::vector<const NodeSet*> ptrs;
    for (auto& g : grids) ptrs.push_back(&g);
    std::vector<u64> p = random_on(s), values(s.box_size(), 0);
    std::size_t count = 0;
    s.for_each([&](std::span<const int> a, int sum, std::size_t idx) {
      std::vector<u64> x;
      for (std::size_t d = 0; d < a.size(); ++d) x.push_back(grids[d].node(static_cast<std::size_t>(a[d])));
      values[idx] = box_evaluate(s, p, x);
      CHECK(s.contains(a) && s.index(a) == idx && sum <= s.cap());
      ++count;
    });
    CHECK(count <= s.box_size());
    lower_set_interpolate(s, ptrs, values);
    CHECK(values == p);
    // Shifting by s and back is the identity; p(x + s) at x is p at x + s.
    std::vector<u64> shift, neg, x = {rnd(), rnd(), rnd()}, xs;
    for (int d = 0; d < dims; ++d) shift.push_back(rnd()), neg.push_back(nmod_neg(shift.back(), kMod));
    for (int d = 0; d < dims; ++d) xs.push_back(nmod_add(x[static_cast<std::size_t>(d)], shift[static_cast<std::size_t>(d)], kMod));
    std::vector<u64> q = p;
    lower_set_shift(s, shift, q, kMod);
    CHECK(box_evaluate(s, q, x) == box_evaluate(s, p, xs));
    lower_set_shift(s, neg, q, kMod);
    CHECK(q == p);
    // Sparse form: canonical order, same values.
    SparsePoly sp = lower_set_to_sparse(s, p);
    CHECK(sparse_evaluate(sp, dims, x, kMod) == box_evaluate(s, p, x));
    auto ud = static_cast<std::size_t>(dims);
    for (std::size_t t = 1; t < sp.coeffs.size(); ++t)
      CHECK(monomial_before(std::span<const int>(sp.exponents.data() + (t - 1) * ud, ud),
                            std::span<const int>(sp.exponents.data() + t * ud, ud)));
  }
}

void test_rational_numbers() {
  const u64 primes[] = {kDefaultPrime, kCheckPrimes[0], kCheckPrimes[1], kCheckPrimes[2], kCheckPrimes[3]};
  for (int rep = 0; rep < 200; ++rep) {
    Integer a = random_integer(40), b = random_integer(40);
    if (rep % 20 == 0) a = Integer(0);
    mpz_abs(b.get(), b.get());
    Integer g;
    mpz_gcd(g.get(), a.get(), b.get());
    mpz_divexact(a.get(), a.get(), g.get());
    mpz_divexact(b.get(), b.get(), g.get());
    Integer x, m(1), ra, rb;
    bool found = false;
    int used = 0;
    for (u64 p : primes) {
      u64 r;
      CHECK(rational_mod(a, b, nmod_t{p}, r));
      CrtStep(m, p).update(x, r);
      mpz_mul_ui(m.get(), m.get(), p);
      ++used;
      CHECK(mpz_cmp(x.get(), m.get()) < 0 && x.sign() >= 0);
      if (rational_reconstruct(ra, rb, x, m)) {
        found = ra == a && rb == b;
        if (found) break;
      }
    }
    CHECK(found);
    // Numerator and denominator above 130 bits need a modulus above 2^261: five 63-bit primes.
    if (mpz_sizeinbase(a.get(), 2) > 130 && mpz_sizeinbase(b.get(), 2) > 130) CHECK(used >= 5);
  }
  Integer a, b;  // modulo 101: |a|, b <= 7
  CHECK(rational_reconstruct(a, b, Integer(99), Integer(101)) && a == Integer(-2) && b == Integer(1));
  CHECK(rational_reconstruct(a, b, Integer(34), Integer(101)) && a == Integer(1) && b == Integer(3));
  CHECK(!rational_reconstruct(a, b, Integer(5), Integer(7)));  // 5 = -2 = 5/1 = 1/3: none within 1
  // Whatever it returns for random residues satisfies a = b x (mod m) within the bounds.
  Integer m(std::to_string(kDefaultPrime)), bound, t;
  mpz_mul_ui(m.get(), m.get(), kCheckPrimes[0]);
  mpz_fdiv_q_2exp(bound.get(), m.get(), 1);
  mpz_sqrt(bound.get(), bound.get());
  for (int rep = 0; rep < 200; ++rep) {
    Integer x(std::to_string(rng()));
    mpz_mul_ui(x.get(), x.get(), rng());
    mpz_mod(x.get(), x.get(), m.get());
    if (!rational_reconstruct(a, b, x, m)) continue;
    mpz_mul(t.get(), b.get(), x.get());
    mpz_sub(t.get(), t.get(), a.get());
    CHECK(mpz_divisible_p(t.get(), m.get()) && mpz_cmpabs(a.get(), bound.get()) <= 0 && b.sign() > 0 &&
          mpz_cmp(b.get(), bound.get()) <= 0);
  }
  CHECK(Integer("-123456789012345678901234567890").str() == "-123456789012345678901234567890");
  CHECK_THROWS(Integer("12x"));
  CHECK_THROWS(Integer(""));
}

// ---- whole reconstructions ----

// Evaluates known functions; a point where a denominator vanishes, or (with `flaky`) about one
// point in eight, comes back empty.
Blackbox box_of(const std::vector<RationalFunction>& fs, int v, bool flaky = false) {
  Blackbox box;
  box.variables = v;
  box.functions = static_cast<int>(fs.size());
  box.evaluate = [fs, flaky](u64 p, const std::vector<std::vector<u64>>& points, std::vector<std::vector<u64>>& values) {
    for (std::size_t i = 0; i < points.size(); ++i) {
      u64 h = p;
      for (u64 x : points[i]) h = h * 0x9E3779B97F4A7C15ULL + x;
      if (flaky && (h >> 40) % 8 == 0) continue;
      try {
        for (const auto& f : fs) values[i].push_back(evaluate_mod(f, points[i], nmod_t{p}));
      } catch (const std::domain_error&) {
        values[i].clear();
      }
    }
  };
  return box;
}

bool reconstructs(const std::vector<RationalFunction>& fs, int v, const char* what, bool flaky = false,
                  int min_primes = 0) {
  ReconstructOptions opt;
  opt.seed = rng();
  if (std::getenv("VERBOSE")) opt.progress = [](const std::string& line) { std::fprintf(stderr, "  %s\n", line.c_str()); };
  ReconstructStats stats;
  std::vector<RationalFunction> got;
  try {
    got = reconstruct(box_of(fs, v, flaky), opt, stats);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", what, e.what());
    return false;
  }
  bool ok = got.size() == fs.size() && stats.primes >= min_primes;
  std::vector<std::string> names = {"d", "s", "t", "u"};
  for (std::size_t i = 0; ok && i < fs.size(); ++i) {
    if (got[i] == fs[i]) continue;
    std::fprintf(stderr, "%s: function %zu\n  expected %s\n  got      %s\n", what, i,
                 format_rational_function(fs[i], names).c_str(), format_rational_function(got[i], names).c_str());
    ok = false;
  }
  if (!ok || std::getenv("VERBOSE"))
    std::fprintf(stderr, "%s: %zu probes, %d primes, %.3f s\n", what, stats.probes, stats.primes, stats.seconds);
  return ok;
}

void test_univariate() {
  for (int rep = 0; rep < 6; ++rep) {
    std::vector<RationalFunction> fs;
    for (int k = 0; k < 3; ++k)
      fs.push_back(make_rational_function(random_polynomial(1, 1 + static_cast<int>(rng() % 6), 6, 30, true),
                                          random_polynomial(1, static_cast<int>(rng() % 6), 6, 30, true)));
    // 30-digit coefficients: ratios of 200 bits, four primes at least.
    CHECK(reconstructs(fs, 1, "univariate, big coefficients", false, 4));
  }
}

void test_multivariate() {
  for (int v : {2, 3}) {
    for (int rep = 0; rep < 3; ++rep) {
      std::vector<RationalFunction> fs;
      fs.push_back(make_rational_function(random_polynomial(v, 4, 8, 8, true), random_polynomial(v, 3, 6, 8, true)));
      // A denominator vanishing at 0: d*s (times a random factor).
      std::vector<int> ds(static_cast<std::size_t>(v), 0);
      ds[0] = ds[1] = 1;
      Polynomial mono = make_polynomial(v, {{ds, Integer(1)}});
      fs.push_back(make_rational_function(random_polynomial(v, 3, 5, 6, true),
                                          times(mono, random_polynomial(v, 1, 2, 3, true))));
      fs.push_back(make_rational_function(random_polynomial(v, 5, 10, 12, false), constant(v, 1)));  // polynomial
      fs.push_back(make_rational_function(Polynomial{v, {}, {}}, constant(v, 1)));                   // zero
      fs.push_back(make_rational_function(constant(v, 3), constant(v, 4)));                          // 3/4
      CHECK(reconstructs(fs, v, v == 2 ? "two variables" : "three variables"));
    }
  }
  // Four variables, one function of modest degree, high in one variable only.
  std::vector<RationalFunction> fs;
  fs.push_back(make_rational_function(random_polynomial(4, 3, 6, 5, true), random_polynomial(4, 2, 4, 5, true)));
  CHECK(reconstructs(fs, 4, "four variables"));
}

// Larger cases: many functions of different degrees sharing the probes, a variable that some
// functions do not depend on, and a function of high degree in one variable only.
void test_larger() {
  std::vector<RationalFunction> fs;
  for (int k = 0; k < 12; ++k)
    fs.push_back(make_rational_function(random_polynomial(1, 1 + static_cast<int>(rng() % 14), 10, 12, true),
                                        random_polynomial(1, static_cast<int>(rng() % 12), 10, 12, true)));
  CHECK(reconstructs(fs, 1, "univariate, twelve functions"));
  fs.clear();
  for (int k = 0; k < 8; ++k)
    fs.push_back(make_rational_function(random_polynomial(2, 1 + static_cast<int>(rng() % 9), 20, 10, true),
                                        random_polynomial(2, static_cast<int>(rng() % 8), 15, 10, true)));
  CHECK(reconstructs(fs, 2, "two variables, eight functions"));
  fs.clear();
  for (int k = 0; k < 6; ++k)
    fs.push_back(make_rational_function(random_polynomial(3, 1 + static_cast<int>(rng() % 6), 20, 10, true),
                                        random_polynomial(3, static_cast<int>(rng() % 6), 15, 10, true)));
  // d^9 (d - 3)/(d + 1)^2 + s: high degree in d only.
  Polynomial d = make_polynomial(3, {{{1, 0, 0}, Integer(1)}}), s = make_polynomial(3, {{{0, 1, 0}, Integer(1)}});
  Polynomial d1 = make_polynomial(3, {{{1, 0, 0}, Integer(1)}, {{0, 0, 0}, Integer(1)}});
  Polynomial num = make_polynomial(3, {{{10, 0, 0}, Integer(1)}, {{9, 0, 0}, Integer(-3)}});
  Polynomial den = times(d1, d1);
  Polynomial sum = times(s, den);
  for (std::size_t i = 0; i < num.size(); ++i)
    sum = make_polynomial(3, [&] {
      std::vector<std::pair<std::vector<int>, Integer>> t;
      for (std::size_t j = 0; j < sum.size(); ++j)
        t.emplace_back(std::vector<int>(sum.exponent(j).begin(), sum.exponent(j).end()), sum.coefficients[j]);
      t.emplace_back(std::vector<int>(num.exponent(i).begin(), num.exponent(i).end()), num.coefficients[i]);
      return t;
    }());
  fs.push_back(make_rational_function(sum, den));
  fs.push_back(make_rational_function(d, s));  // d/s
  CHECK(reconstructs(fs, 3, "three variables, eight functions"));
  // Enough functions for the per-function work to run on several threads.
  fs.clear();
  for (int k = 0; k < 80; ++k)
    fs.push_back(make_rational_function(random_polynomial(2, 1 + static_cast<int>(rng() % 4), 4, 8, true),
                                        random_polynomial(2, static_cast<int>(rng() % 4), 4, 8, true)));
  CHECK(reconstructs(fs, 2, "two variables, eighty functions"));
}

// Random problems: 0 to 4 variables, several functions each of a random kind (general, monomial
// denominator, polynomial, zero), every third black box flaky.
void test_random_problems() {
  for (int rep = 0; rep < 200; ++rep) {
    const int v = static_cast<int>(rng() % 5), fcount = 1 + static_cast<int>(rng() % 5);
    const int top = v >= 3 ? 5 : 10;
    std::vector<RationalFunction> fs;
    for (int k = 0; k < fcount; ++k) {
      const int dn = static_cast<int>(rng() % static_cast<u64>(top)) + 1, dd = static_cast<int>(rng() % static_cast<u64>(top));
      const int terms = 1 + static_cast<int>(rng() % 12), digits = 1 + static_cast<int>(rng() % 25);
      Polynomial num = random_polynomial(v, dn, terms, digits, true);
      switch (v == 0 ? 0 : rng() % 4) {
        case 0: fs.push_back(make_rational_function(num, random_polynomial(v, dd, terms, digits, true))); break;
        case 1: {
          std::vector<int> e(static_cast<std::size_t>(v), 0);
          for (int& x : e) x = static_cast<int>(rng() % 3);
          fs.push_back(make_rational_function(num, make_polynomial(v, {{e, Integer(1 + static_cast<long>(rng() % 9))}})));
          break;
        }
        case 2: fs.push_back(make_rational_function(num, constant(v, 1))); break;
        default: fs.push_back(make_rational_function(Polynomial{v, {}, {}}, constant(v, 1)));
      }
    }
    CHECK(reconstructs(fs, v, "random problem", rep % 3 == 0));
  }
}

// Coefficients divisible by the first or second prime: the first prime sees fewer terms (its
// result is replaced), the second sees fewer terms (it is skipped for that function).
void test_unlucky_primes() {
  Integer p1(std::to_string(kDefaultPrime).c_str()), p2(std::to_string(kCheckPrimes[0]).c_str());
  Polynomial n1 = make_polynomial(1, {{{2}, p1}, {{1}, Integer(1)}, {{0}, Integer(1)}});
  Polynomial d1 = make_polynomial(1, {{{1}, Integer(1)}, {{0}, Integer(2)}});
  Polynomial n2 = make_polynomial(1, {{{1}, Integer(1)}, {{0}, Integer(1)}});
  Polynomial d2 = make_polynomial(1, {{{2}, p2}, {{1}, Integer(1)}, {{0}, Integer(3)}});
  std::vector<RationalFunction> fs = {make_rational_function(n1, d1), make_rational_function(n2, d2)};
  CHECK(reconstructs(fs, 1, "unlucky primes"));
  Polynomial n3 = make_polynomial(2, {{{2, 1}, p1}, {{1, 0}, Integer(1)}, {{0, 1}, Integer(-5)}});
  Polynomial d3 = make_polynomial(2, {{{1, 1}, p2}, {{0, 0}, Integer(7)}});
  CHECK(reconstructs({make_rational_function(n3, d3)}, 2, "unlucky primes, two variables"));
}

void test_constants_and_flaky() {
  std::vector<RationalFunction> fs = {make_rational_function(constant(0, -7), constant(0, 3)),
                                      make_rational_function(Polynomial{0, {}, {}}, constant(0, 1))};
  CHECK(reconstructs(fs, 0, "constants"));
  std::vector<RationalFunction> g;
  g.push_back(make_rational_function(random_polynomial(2, 3, 6, 10, true), random_polynomial(2, 2, 4, 10, true)));
  g.push_back(make_rational_function(random_polynomial(2, 1, 2, 10, true), random_polynomial(2, 4, 6, 10, true)));
  CHECK(reconstructs(g, 2, "flaky black box", true));
  std::vector<RationalFunction> h;
  h.push_back(make_rational_function(random_polynomial(1, 5, 4, 20, true), random_polynomial(1, 3, 3, 20, true)));
  CHECK(reconstructs(h, 1, "flaky univariate", true));
}

void test_failures() {
  std::vector<RationalFunction> fs = {
      make_rational_function(random_polynomial(2, 4, 8, 30, true), random_polynomial(2, 3, 6, 30, true))};
  ReconstructOptions opt;
  ReconstructStats stats;
  opt.max_probes = 60;
  bool thrown = false;
  try {
    reconstruct(box_of(fs, 2), opt, stats);
  } catch (const NotConvergedError& e) {
    thrown = std::string(e.what()).find("budget of 60 probes") != std::string::npos;
  }
  CHECK(thrown);
  CHECK(stats.probes <= 60);
  opt.max_probes = 100000;
  opt.max_primes = 2;
  CHECK_THROWS(reconstruct(box_of(fs, 2), opt, stats));
  // A black box that always fails gives up after 50 bad points in a row at two primes.
  Blackbox broken{1, 1, [](u64, const std::vector<std::vector<u64>>&, std::vector<std::vector<u64>>&) {}};
  opt.max_primes = 12;
  thrown = false;
  try {
    reconstruct(broken, opt, stats);
  } catch (const NotConvergedError&) {
    thrown = true;
  }
  CHECK(thrown && stats.probes < 150 && stats.primes == 2);
  // One prime where the black box fails everywhere is skipped.
  fs = {make_rational_function(random_polynomial(2, 3, 4, 8, true), random_polynomial(2, 2, 4, 8, true))};
  Blackbox inner = box_of(fs, 2);
  Blackbox skip{2, 1, [&](u64 p, const std::vector<std::vector<u64>>& pts, std::vector<std::vector<u64>>& vals) {
                  if (p != kCheckPrimes[0]) inner.evaluate(p, pts, vals);
                }};
  CHECK(reconstruct(skip, opt, stats) == fs && stats.primes == 4);  // built, skipped, stable, checked
  Blackbox wrong_rows{1, 2, [](u64, const std::vector<std::vector<u64>>& pts, std::vector<std::vector<u64>>& vals) {
                        for (std::size_t i = 0; i < pts.size(); ++i) vals[i] = {1};
                      }};
  CHECK_THROWS(reconstruct(wrong_rows, opt, stats));
  CHECK_THROWS(reconstruct(Blackbox{1, 0, broken.evaluate}, opt, stats));
  // Progress lines and statistics.
  std::vector<std::string> lines;
  opt.progress = [&](const std::string& s) { lines.push_back(s); };
  fs = {make_rational_function(random_polynomial(1, 2, 2, 3, true), random_polynomial(1, 2, 2, 3, true))};
  reconstruct(box_of(fs, 1), opt, stats);
  CHECK(!lines.empty() && lines.back().find("check prime") == 0);
  CHECK(stats.primes >= 3 && stats.probes > 0 && stats.seconds >= stats.probe_seconds);
}

void test_format() {
  auto p1 = [](std::vector<std::pair<int, long>> t) {
    std::vector<std::pair<std::vector<int>, Integer>> terms;
    for (auto [e, c] : t) terms.emplace_back(std::vector<int>{e}, Integer(c));
    return make_polynomial(1, terms);
  };
  std::vector<std::string> d = {"d"};
  CHECK(format_rational_function(make_rational_function(p1({{1, 2}, {0, -7}}), p1({{2, 1}, {1, -8}, {0, 16}})), d) ==
        "(2*d-7)/(d^2-8*d+16)");
  CHECK(format_rational_function(make_rational_function(p1({}), p1({{1, 5}})), d) == "0");
  CHECK(format_rational_function(make_rational_function(p1({{0, 6}}), p1({{0, 8}})), d) == "3/4");
  CHECK(format_rational_function(make_rational_function(p1({{0, -4}, {1, 1}}), p1({{0, 1}})), d) == "d-4");
  CHECK(format_rational_function(make_rational_function(p1({{1, 1}, {0, -4}}), p1({{1, 2}})), d) == "(d-4)/(2*d)");
  CHECK(format_rational_function(make_rational_function(p1({{1, 1}}), p1({{0, -2}})), d) == "-d/2");
  CHECK(format_rational_function(make_rational_function(p1({{0, 3}}), p1({{2, 1}})), d) == "3/d^2");
  CHECK(format_rational_function(make_rational_function(p1({{0, 2}}), p1({{1, -2}, {0, 4}})), d) == "-1/(d-2)");
  CHECK(format_rational_function(make_rational_function(p1({{2, -1}, {0, 1}}), p1({{0, 1}})), d) == "-d^2+1");
  std::vector<std::string> dst = {"d", "s", "t"};
  Polynomial n = make_polynomial(3, {{{0, 1, 1}, Integer(1)}, {{2, 0, 0}, Integer(-2)}});
  Polynomial st = make_polynomial(3, {{{0, 1, 1}, Integer(1)}});
  CHECK(format_rational_function(make_rational_function(n, st), dst) == "(-2*d^2+s*t)/(s*t)");
  CHECK_THROWS(format_rational_function(make_rational_function(n, st), d));
  CHECK_THROWS(make_rational_function(n, Polynomial{3, {}, {}}));
  // evaluate_mod: (-2 d^2 + s t)/(s t) at (1, 2, 3) is 4/6 = 2/3; a pole throws.
  RationalFunction f = make_rational_function(n, st);
  CHECK(evaluate_mod(f, {1, 2, 3}, kMod) == nmod_mul(2, nmod_inv(3, kMod), kMod));
  CHECK_THROWS(evaluate_mod(f, {1, 0, 3}, kMod));
  CHECK_THROWS(evaluate_mod(f, {1, 2}, kMod));
  // Big negative coefficients reduce into [0, p).
  RationalFunction g = make_rational_function(make_polynomial(0, {{{}, Integer("-100000000000000000000000000")}}),
                                              constant(0, 1));
  CHECK(evaluate_mod(g, {}, kMod) == nmod_neg(nmod_set_str("100000000000000000000000000", kMod), kMod));
}

}  // namespace

int main() {
  const auto t0 = std::chrono::steady_clock::now();
  auto step = [&](const char* name, void (*fn)()) {
    fn();
    std::printf("%-24s %.2f s\n", name, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  step("field", test_field);
  step("newton", test_newton);
  step("poly ops", test_poly_ops);
  step("cauchy", test_cauchy);
  step("thiele", test_thiele);
  step("lower sets", test_lower_sets);
  step("rational numbers", test_rational_numbers);
  step("format", test_format);
  step("univariate", test_univariate);
  step("multivariate", test_multivariate);
  step("larger", test_larger);
  step("unlucky primes", test_unlucky_primes);
  step("random problems", test_random_problems);
  step("constants, flaky", test_constants_and_flaky);
  step("failures", test_failures);
  TEST_MAIN_END();
}
