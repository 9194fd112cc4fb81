#include "ff/nmod.hpp"

#include <charconv>

namespace sailir {

u64 nmod_pow(u64 a, u64 e, nmod_t m) {
  u64 r = 1 % m.n;
  a %= m.n;
  while (e) {
    if (e & 1) r = nmod_mul(r, a, m);
    a = nmod_mul(a, a, m);
    e >>= 1;
  }
  return r;
}

u64 nmod_inv(u64 a, nmod_t m) {
  if (a % m.n == 0) throw std::domain_error("division by zero modulo the prime");
  // Extended Euclid in 64 bits: for p < 2^63 the Bezout coefficients stay below p in absolute
  // value, so they fit a signed word (a 128-bit division costs several times more per step).
  std::int64_t t = 0, nt = 1;
  u64 r = m.n, nr = a % m.n;
  while (nr != 0) {
    const u64 q = r / nr;
    const std::int64_t tmp = t - static_cast<std::int64_t>(q) * nt;
    t = nt;
    nt = tmp;
    const u64 rem = r - q * nr;
    r = nr;
    nr = rem;
  }
  return t < 0 ? static_cast<u64>(t + static_cast<std::int64_t>(m.n)) : static_cast<u64>(t);
}

static u64 digits_mod(std::string_view s, nmod_t m) {
  if (s.empty()) throw std::invalid_argument("empty number");
  u64 v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') throw std::invalid_argument("not a number: " + std::string(s));
    v = nmod_add(nmod_mul(v, 10 % m.n, m), static_cast<u64>(c - '0') % m.n, m);
  }
  return v;
}

u64 nmod_set_str(std::string_view text, nmod_t m) {
  bool neg = false;
  std::string_view s = text;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  u64 num, den = 1;
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    num = digits_mod(s.substr(0, slash), m);
    den = digits_mod(s.substr(slash + 1), m);
    if (den == 0)
      throw std::domain_error("denominator of " + std::string(text) + " is zero modulo the prime");
  } else {
    num = digits_mod(s, m);
  }
  u64 v = den == 1 ? num : nmod_mul(num, nmod_inv(den, m), m);
  return neg ? nmod_neg(v, m) : v;
}

static bool mr_witness(u64 n, u64 a, u64 d, int s) {
  nmod_t m{n};
  u64 x = nmod_pow(a % n, d, m);
  if (x == 0 || x == 1 || x == n - 1) return false;
  for (int i = 1; i < s; ++i) {
    x = nmod_mul(x, x, m);
    if (x == n - 1) return false;
  }
  return true;  // a proves n composite
}

bool n_is_prime(u64 n) {
  if (n < 2) return false;
  for (u64 q : {2ULL, 3ULL, 5ULL, 7ULL, 11ULL, 13ULL, 17ULL, 19ULL, 23ULL, 29ULL, 31ULL, 37ULL}) {
    if (n % q == 0) return n == q;
  }
  u64 d = n - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  // These bases are a proven deterministic set for n < 2^64.
  for (u64 a : {2ULL, 325ULL, 9375ULL, 28178ULL, 450775ULL, 9780504ULL, 1795265022ULL}) {
    if (mr_witness(n, a, d, s)) return false;
  }
  return true;
}

u64 n_parse_prime(std::string_view text) {
  u64 p = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
  if (ec != std::errc() || ptr != text.data() + text.size())
    throw std::invalid_argument("modulus '" + std::string(text) + "' is not a decimal integer below 2^64");
  return n_check_prime(p);
}

u64 n_check_prime(u64 p) {
  if (p >= (1ULL << 63) || p < (1ULL << 16))
    throw std::invalid_argument("modulus " + std::to_string(p) + " is outside the supported range 2^16 <= p < 2^63");
  if (!n_is_prime(p)) throw std::invalid_argument("modulus " + std::to_string(p) + " is not a prime");
  return p;
}

}  // namespace sailir
