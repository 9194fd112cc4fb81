// The driver over primes: reconstruct modulo each prime, normalize, combine by Chinese
// remaindering, rationalize, and accept once one more prime leaves the result unchanged and it
// agrees with the black box modulo a fresh prime.
#include "reconstruct/reconstruct.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <optional>

#include "reconstruct/modular.hpp"
#include "reconstruct/parallel.hpp"
#include "reconstruct/rational_numbers.hpp"

namespace sailir {

namespace {

using namespace recon;

constexpr int kAttemptsPerPrime = 3;  // tries at one prime before moving on to the next
constexpr int kFreshCheckPoints = 2;  // random points of the final check modulo a fresh prime
constexpr int kMaxBadPrimes = 2;      // primes in a row where the black box fails everywhere

// kDefaultPrime, kCheckPrimes, then the primes below them in decreasing order.
class PrimeSequence {
 public:
  u64 next() {
    if (i_ < std::size(kCheckPrimes) + 1) {
      last_ = i_ == 0 ? kDefaultPrime : kCheckPrimes[i_ - 1];
      ++i_;
      return last_;
    }
    do last_ -= 2;
    while (!n_is_prime(last_));
    return last_;
  }

 private:
  std::size_t i_ = 0;
  u64 last_ = 0;
};

// One function across primes: the shape (terms of N and D), the residues of its coefficients
// normalized to the denominator term `norm` being 1, and the current rational candidate.
struct Accumulator {
  bool started = false, stable = false;
  std::vector<int> num_exps, den_exps, norm;
  std::size_t num_terms = 0, den_terms = 0;  // (the exponents say it too, except with V = 0)
  std::vector<Integer> residues;  // numerator coefficients, then denominator ones
  Integer modulus;
  std::vector<Integer> cand_num, cand_den;  // empty: no candidate
  RationalFunction result;
};

std::vector<u64> coefficients(const ModularFunction& m) {
  std::vector<u64> c = m.num.coeffs;
  c.insert(c.end(), m.den.coeffs.begin(), m.den.coeffs.end());
  return c;
}

// Scales num and den so that the denominator term `norm` is 1; false when that term is absent.
bool normalize(ModularFunction& m, std::span<const int> norm, nmod_t mod) {
  const std::size_t v = norm.size(), terms = m.den.coeffs.size();
  std::size_t t = 0;
  while (t < terms && !std::equal(norm.begin(), norm.end(), m.den.exponents.begin() + static_cast<long>(t * v))) ++t;
  if (t == terms) return false;
  const u64 inv = nmod_inv(m.den.coeffs[t], mod);
  for (auto* p : {&m.num, &m.den})
    for (u64& c : p->coeffs) c = nmod_mul(c, inv, mod);
  return true;
}

// True when every term of `small` is a term of `big` (both in canonical order).
bool terms_include(const SparsePoly& big, const std::vector<int>& small, std::size_t small_terms, std::size_t v) {
  if (v == 0) return big.coeffs.size() >= small_terms;
  std::size_t i = 0;
  for (std::size_t j = 0; j < small.size(); j += v) {
    const std::vector<int>& e = big.exponents;
    while (i < e.size() &&
           !std::equal(e.begin() + static_cast<long>(i), e.begin() + static_cast<long>(i + v), small.begin() + static_cast<long>(j)))
      i += v;
    if (i == e.size()) return false;
  }
  return true;
}

void try_rationalize(Accumulator& a) {
  a.cand_num.assign(a.residues.size(), Integer());
  a.cand_den.assign(a.residues.size(), Integer());
  for (std::size_t i = 0; i < a.residues.size(); ++i) {
    if (!rational_reconstruct(a.cand_num[i], a.cand_den[i], a.residues[i], a.modulus)) {
      a.cand_num.clear();  // the modulus is still too small (checking stops at the first failure)
      a.cand_den.clear();
      return;
    }
  }
}

bool candidate_matches(const Accumulator& a, std::span<const u64> c, nmod_t mod) {
  if (a.cand_num.empty()) return false;
  for (std::size_t i = 0; i < c.size(); ++i) {
    u64 r;
    if (!rational_mod(a.cand_num[i], a.cand_den[i], mod, r) || r != c[i]) return false;
  }
  return true;
}

Polynomial integer_polynomial(int v, const std::vector<int>& exps, std::span<const Integer> num,
                              std::span<const Integer> den, const Integer& lcm) {
  Polynomial p;
  p.variables = v;
  p.exponents = exps;
  for (std::size_t i = 0; i < num.size(); ++i) {
    Integer c;
    mpz_divexact(c.get(), lcm.get(), den[i].get());
    mpz_mul(c.get(), c.get(), num[i].get());
    p.coefficients.push_back(std::move(c));
  }
  return p;
}

// The candidate over a common denominator, as coprime integer polynomials.
RationalFunction candidate_function(const Accumulator& a, int v) {
  Integer lcm(1);
  for (const Integer& d : a.cand_den) mpz_lcm(lcm.get(), lcm.get(), d.get());
  const std::size_t split = a.num_terms;
  std::span<const Integer> num(a.cand_num), den(a.cand_den);
  return make_rational_function(integer_polynomial(v, a.num_exps, num.first(split), den.first(split), lcm),
                                integer_polynomial(v, a.den_exps, num.subspan(split), den.subspan(split), lcm));
}

void start(Accumulator& a, ModularFunction& m, u64 p, int v) {
  a = Accumulator();
  a.started = true;
  a.norm.assign(m.den.exponents.begin(), m.den.exponents.begin() + v);  // the leading term
  normalize(m, a.norm, nmod_t{p});
  a.num_exps = m.num.exponents;
  a.den_exps = m.den.exponents;
  a.num_terms = m.num.coeffs.size();
  a.den_terms = m.den.coeffs.size();
  for (u64 c : coefficients(m)) {
    a.residues.emplace_back();
    mpz_set_ui(a.residues.back().get(), c);
  }
  mpz_set_ui(a.modulus.get(), p);
  try_rationalize(a);
}

// Adds one prime's result; an unlucky prime (terms missing) is skipped, and a result with more
// terms than the accumulated ones means the earlier primes were unlucky.
void absorb(Accumulator& a, ModularFunction& m, u64 p, int v) {
  const auto uv = static_cast<std::size_t>(v);
  if (!a.started) return start(a, m, p, v);
  const bool same = m.num.exponents == a.num_exps && m.den.exponents == a.den_exps &&
                    m.num.coeffs.size() == a.num_terms && m.den.coeffs.size() == a.den_terms;
  if (!same) {
    if (terms_include(m.num, a.num_exps, a.num_terms, uv) && terms_include(m.den, a.den_exps, a.den_terms, uv))
      start(a, m, p, v);
    return;
  }
  const nmod_t mod{p};
  normalize(m, a.norm, mod);
  const std::vector<u64> c = coefficients(m);
  if (candidate_matches(a, c, mod)) {  // one more prime leaves the candidate unchanged
    a.stable = true;
    a.result = candidate_function(a, v);
    return;
  }
  const CrtStep step(a.modulus, p);
  for (std::size_t i = 0; i < c.size(); ++i) step.update(a.residues[i], c[i]);
  mpz_mul_ui(a.modulus.get(), a.modulus.get(), p);
  try_rationalize(a);
}

class Driver {
 public:
  Driver(const Blackbox& box, const ReconstructOptions& opt, ReconstructStats& stats)
      : box_(box), opt_(opt), stats_(stats), prober_(box, opt, stats), rng_(opt.seed),
        acc_(static_cast<std::size_t>(box.functions)), degrees_(static_cast<std::size_t>(box.functions)) {}

  std::vector<RationalFunction> run();
  std::string how_far() const {
    return std::to_string(stats_.probes) + " probes over " + std::to_string(stats_.primes) + " primes, " +
           std::to_string(stable_count()) + " of " + std::to_string(box_.functions) + " functions stable";
  }

 private:
  void report(const std::string& line) const {
    if (opt_.progress) opt_.progress(line);
  }
  std::size_t stable_count() const {
    return static_cast<std::size_t>(std::count_if(acc_.begin(), acc_.end(), [](const Accumulator& a) { return a.stable; }));
  }
  std::optional<std::vector<RationalFunction>> at_prime(PrimeContext& ctx);
  void discover(PrimeContext& ctx, const std::vector<int>& ids);
  void build_at_prime(PrimeContext& ctx, std::vector<int> active);
  std::vector<int> fresh_check(PrimeContext& ctx);

  const Blackbox& box_;
  const ReconstructOptions& opt_;
  ReconstructStats& stats_;
  Prober prober_;
  std::mt19937_64 rng_;
  std::vector<Accumulator> acc_;
  std::vector<Degrees> degrees_;
};

void Driver::discover(PrimeContext& ctx, const std::vector<int>& ids) {
  const std::size_t before = stats_.probes;
  std::vector<Degrees> old;
  for (int id : ids) old.push_back(degrees_[static_cast<std::size_t>(id)]);
  discover_degrees(ctx, ids, degrees_);
  int num = 0, den = 0;
  for (std::size_t j = 0; j < ids.size(); ++j) {
    Degrees& d = degrees_[static_cast<std::size_t>(ids[j])];
    raise_degrees(d, old[j]);  // degrees found at an unlucky prime are too low, never too high
    num = std::max(num, d.num);
    den = std::max(den, d.den);
  }
  report("prime " + std::to_string(stats_.primes) + ": degrees of " + std::to_string(ids.size()) +
         " functions found with " + std::to_string(stats_.probes - before) + " probes (numerators up to " +
         std::to_string(num) + ", denominators up to " + std::to_string(den) + ")");
}

void Driver::build_at_prime(PrimeContext& ctx, std::vector<int> active) {
  const std::size_t probes0 = stats_.probes;
  for (int attempt = 0; attempt < kAttemptsPerPrime && !active.empty(); ++attempt) {
    std::vector<int> unknown;
    for (int id : active)
      if (!degrees_[static_cast<std::size_t>(id)].known) unknown.push_back(id);
    if (!unknown.empty()) discover(ctx, unknown);
    std::vector<ModularFunction> out;
    const ModularSummary s = reconstruct_modular(ctx, active, degrees_, out);
    parallel_for(active.size(), 16, [&](std::size_t b, std::size_t e) {
      for (std::size_t j = b; j < e; ++j)
        if (out[j].ok) absorb(acc_[static_cast<std::size_t>(active[j])], out[j], ctx.mod.n, box_.variables);
    });
    std::vector<int> failed;
    for (std::size_t j = 0; j < active.size(); ++j) {
      if (out[j].ok) continue;
      failed.push_back(active[j]);
      degrees_[static_cast<std::size_t>(active[j])].known = false;  // find the degrees again before the next try
    }
    if (!unknown.empty() || !failed.empty())
      report("prime " + std::to_string(stats_.primes) + ": " + std::to_string(s.lines) + " lines, " +
             std::to_string(s.probes) + " probes (lead variable " + std::to_string(s.lead + 1) + ")" +
             (failed.empty() ? "" : ", " + std::to_string(failed.size()) + " functions failed the check"));
    active = std::move(failed);
  }
  report("prime " + std::to_string(stats_.primes) + ": " + std::to_string(stats_.probes - probes0) + " probes, " +
         std::to_string(stable_count()) + " of " + std::to_string(box_.functions) + " functions stable");
}

// Ids of the functions whose results disagree with the black box at random points.
std::vector<int> Driver::fresh_check(PrimeContext& ctx) {
  const int v = box_.variables;
  Points points, values;
  for (int i = 0; i < kFreshCheckPoints; ++i) points.push_back(random_point(ctx.rng, v, ctx.mod.n));
  ctx.prober.evaluate_all(ctx.mod.n, points, values, [&](std::size_t) { return random_point(ctx.rng, v, ctx.mod.n); });
  std::vector<int> wrong;
  for (std::size_t f = 0; f < acc_.size(); ++f) {
    for (std::size_t i = 0; i < points.size(); ++i) {
      u64 r;
      try {
        r = evaluate_mod(acc_[f].result, points[i], ctx.mod);
      } catch (const std::domain_error&) {
        continue;  // a pole at a random point: no verdict from this point
      }
      if (r != values[i][f]) {
        wrong.push_back(static_cast<int>(f));
        break;
      }
    }
  }
  return wrong;
}

std::vector<RationalFunction> Driver::run() {
  PrimeSequence primes;
  for (int bad_primes = 0;;) {
    if (stats_.primes >= opt_.max_primes)
      throw NotConvergedError("reconstruction did not converge within max_primes = " + std::to_string(opt_.max_primes) +
                              " (" + how_far() + ")");
    PrimeContext ctx{nmod_t{primes.next()}, rng_, prober_,
                     [this](const std::string& line) { report("prime " + std::to_string(stats_.primes) + ": " + line); }};
    ++stats_.primes;
    prober_.new_prime();
    try {
      if (std::optional<std::vector<RationalFunction>> done = at_prime(ctx)) return std::move(*done);
      bad_primes = 0;
    } catch (const BadPrime& e) {
      if (++bad_primes >= kMaxBadPrimes)
        throw NotConvergedError("reconstruction gave up: " + std::string(e.what()) + " at " +
                                std::to_string(kMaxBadPrimes) + " primes in a row (" + how_far() + ")");
      report("prime " + std::to_string(stats_.primes) + ": " + e.what() + "; trying the next prime");
    }
  }
}

// One prime: a check of the finished results, or a reconstruction of the unfinished ones.
std::optional<std::vector<RationalFunction>> Driver::at_prime(PrimeContext& ctx) {
  std::vector<int> active;
  for (std::size_t f = 0; f < acc_.size(); ++f)
    if (!acc_[f].stable) active.push_back(static_cast<int>(f));
  if (active.empty()) {
    active = fresh_check(ctx);
    if (active.empty()) {
      report("check prime " + std::to_string(stats_.primes) + ": all " + std::to_string(box_.functions) +
             " functions agree");
      std::vector<RationalFunction> out;
      for (Accumulator& a : acc_) out.push_back(std::move(a.result));
      return out;
    }
    report("check prime " + std::to_string(stats_.primes) + ": " + std::to_string(active.size()) +
           " functions disagree, reconstructing them again");
    for (int id : active) {
      acc_[static_cast<std::size_t>(id)] = Accumulator();
      degrees_[static_cast<std::size_t>(id)].known = false;
    }
  }
  build_at_prime(ctx, std::move(active));
  return std::nullopt;
}

}  // namespace

std::vector<RationalFunction> reconstruct(const Blackbox& box, const ReconstructOptions& opt,
                                          ReconstructStats& stats) {
  if (box.variables < 0 || box.functions < 1 || !box.evaluate)
    throw std::invalid_argument("reconstruct: the black box needs variables >= 0, functions >= 1 and evaluate");
  stats = ReconstructStats();
  const auto t0 = std::chrono::steady_clock::now();
  struct Timer {  // records the time however reconstruction ends
    ReconstructStats& s;
    std::chrono::steady_clock::time_point t0;
    ~Timer() { s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
  } timer{stats, t0};
  Driver driver(box, opt, stats);
  try {
    return driver.run();
  } catch (const BudgetExhausted& e) {
    throw NotConvergedError("reconstruction did not converge within the budget of " + std::to_string(opt.max_probes) +
                            " probes: " + e.what() + " (" + driver.how_far() + ")");
  }
}

}  // namespace sailir
