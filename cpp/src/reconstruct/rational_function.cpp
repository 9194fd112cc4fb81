// The result type: integers, canonical polynomials and rational functions, their text form and
// their evaluation modulo a prime.
#include <algorithm>
#include <numeric>

#include "reconstruct/multivariate.hpp"
#include "reconstruct/reconstruct.hpp"

namespace sailir {

static_assert(sizeof(unsigned long) == sizeof(u64), "GMP's *_ui functions must take 64-bit words");

Integer::Integer(std::string_view decimal) {
  mpz_init(v_);
  std::string s(decimal);
  std::size_t digits = s.size() - (!s.empty() && s[0] == '-');
  bool ok = digits > 0 && std::all_of(s.end() - static_cast<long>(digits), s.end(),
                                      [](char c) { return c >= '0' && c <= '9'; });
  if (!ok || mpz_set_str(v_, s.c_str(), 10) != 0)
    throw std::invalid_argument("not an integer: " + s);
}

std::string Integer::str() const {
  std::string s(mpz_sizeinbase(v_, 10) + 2, '\0');
  mpz_get_str(s.data(), 10, v_);
  s.resize(s.find('\0'));
  return s;
}

int Polynomial::degree() const {
  int d = -1;
  for (std::size_t i = 0; i < size(); ++i) {
    auto e = exponent(i);
    d = std::max(d, std::accumulate(e.begin(), e.end(), 0));
  }
  return d;
}

Polynomial make_polynomial(int variables, std::vector<std::pair<std::vector<int>, Integer>> terms) {
  for (auto& [e, c] : terms)
    if (static_cast<int>(e.size()) != variables || std::any_of(e.begin(), e.end(), [](int x) { return x < 0; }))
      throw std::invalid_argument("bad exponent vector in a polynomial term");
  std::sort(terms.begin(), terms.end(),
            [](const auto& a, const auto& b) { return recon::monomial_before(a.first, b.first); });
  Polynomial p;
  p.variables = variables;
  for (std::size_t i = 0; i < terms.size();) {
    Integer sum;
    std::size_t j = i;
    for (; j < terms.size() && terms[j].first == terms[i].first; ++j)
      mpz_add(sum.get(), sum.get(), terms[j].second.get());
    if (sum.sign() != 0) {
      p.exponents.insert(p.exponents.end(), terms[i].first.begin(), terms[i].first.end());
      p.coefficients.push_back(std::move(sum));
    }
    i = j;
  }
  return p;
}

RationalFunction make_rational_function(Polynomial numerator, Polynomial denominator) {
  if (denominator.is_zero()) throw std::domain_error("rational function with denominator 0");
  if (numerator.variables != denominator.variables)
    throw std::invalid_argument("numerator and denominator in different variables");
  RationalFunction f{std::move(numerator), std::move(denominator)};
  if (f.numerator.is_zero()) {
    f.denominator.exponents.assign(static_cast<std::size_t>(f.variables()), 0);
    f.denominator.coefficients.clear();
    f.denominator.coefficients.emplace_back(1);
    return f;
  }
  Integer g;
  for (auto* p : {&f.numerator, &f.denominator})
    for (auto& c : p->coefficients) mpz_gcd(g.get(), g.get(), c.get());
  if (f.denominator.coefficients[0].sign() < 0) mpz_neg(g.get(), g.get());
  for (auto* p : {&f.numerator, &f.denominator})
    for (auto& c : p->coefficients) mpz_divexact(c.get(), c.get(), g.get());
  return f;
}

namespace {

// "d^2*s": the monomial of an exponent vector; empty for 1.
std::string format_monomial(std::span<const int> e, const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t v = 0; v < e.size(); ++v) {
    if (e[v] == 0) continue;
    if (!s.empty()) s += '*';
    s += names[v];
    if (e[v] > 1) s += '^' + std::to_string(e[v]);
  }
  return s;
}

std::string format_polynomial(const Polynomial& p, const std::vector<std::string>& names) {
  if (p.is_zero()) return "0";
  std::string s;
  for (std::size_t i = 0; i < p.size(); ++i) {
    std::string c = p.coefficients[i].str(), m = format_monomial(p.exponent(i), names);
    bool neg = c[0] == '-';
    if (neg) c.erase(0, 1);
    if (neg) s += '-';
    else if (i > 0) s += '+';
    if (m.empty()) s += c;
    else s += c == "1" ? m : c + '*' + m;
  }
  return s;
}

// A single factor (integer, name or power) needs no parentheses after '/'.
bool is_single_factor(const Polynomial& p) {
  if (p.size() != 1) return false;
  auto e = p.exponent(0);
  int factors = static_cast<int>(std::count_if(e.begin(), e.end(), [](int x) { return x > 0; }));
  bool unit = mpz_cmp_ui(p.coefficients[0].get(), 1) == 0;
  return factors == 0 || (factors == 1 && unit);
}

}  // namespace

std::string format_rational_function(const RationalFunction& f, const std::vector<std::string>& names) {
  if (static_cast<int>(names.size()) < f.variables())
    throw std::invalid_argument("format_rational_function: fewer names than variables");
  std::string num = format_polynomial(f.numerator, names);
  const Polynomial& den = f.denominator;
  bool den_one = den.size() == 1 && den.degree() == 0 && mpz_cmp_ui(den.coefficients[0].get(), 1) == 0;
  if (den_one || f.numerator.is_zero()) return num;
  if (f.numerator.size() > 1) num = '(' + num + ')';
  std::string d = format_polynomial(den, names);
  return num + '/' + (is_single_factor(den) ? d : '(' + d + ')');
}

u64 evaluate_mod(const RationalFunction& f, const std::vector<u64>& point, nmod_t mod) {
  if (static_cast<int>(point.size()) != f.variables())
    throw std::invalid_argument("evaluate_mod: point has " + std::to_string(point.size()) + " values for " +
                                std::to_string(f.variables()) + " variables");
  auto reduce = [&](const Polynomial& p) {
    recon::SparsePoly q;
    q.exponents = p.exponents;
    for (const Integer& c : p.coefficients) {
      u64 r = mpz_fdiv_ui(c.get(), mod.n);  // fdiv: the residue of a negative is still in [0, p)
      q.coeffs.push_back(r);
    }
    return recon::sparse_evaluate(q, f.variables(), point, mod);
  };
  u64 den = reduce(f.denominator);
  if (den == 0) throw std::domain_error("denominator vanishes at the point modulo the prime");
  return nmod_mul(reduce(f.numerator), nmod_inv(den, mod), mod);
}

}  // namespace sailir
