// The lane program (recording/lane_replay.hpp, the code the GPU runs) on the CPU: Montgomery
// arithmetic against nmod (randomized, FLINT style), replays equal to Replayer's bit for bit at
// random primes and points, the same verdict at degenerate points, storage reuse, and the
// device choice (--device) with its notice.
#include <cstdio>
#include <random>

#include "check.hpp"
#include "family/family_source.hpp"
#include "laporta/laporta_recording.hpp"
#include "recording/lane_program.hpp"
#include "recording/replay.hpp"
#include "device/probe_device.hpp"

using namespace sailir;

namespace {

// Random primes across the range the engine accepts (2^16 <= p < 2^63), the default ones among them.
std::vector<u64> test_primes(std::mt19937_64& rng) {
  std::vector<u64> primes = {kDefaultPrime, kCheckPrimes[0], 65537};
  for (int bits : {17, 31, 32, 33, 62, 63})
    for (int k = 0; k < 3;) {
      u64 p = (rng() >> (64 - bits)) | (u64{1} << (bits - 1)) | 1;
      if (n_is_prime(p)) primes.push_back(p), ++k;
    }
  return primes;
}

void test_montgomery(std::mt19937_64& rng) {
  for (u64 p : test_primes(rng)) {
    const nmod_t m{p};
    const nmod_mont_t mm = nmod_mont_init(p);
    CHECK(mm.ninv * p == u64(0) - 1);  // -p^-1 * p = -1 mod 2^64
    for (int i = 0; i < 2000; ++i) {
      const u64 a = i < 4 ? (i < 2 ? u64(i) : p - 1 - u64(i - 2)) : rng() % p, b = rng() % p;
      const u64 am = nmod_mont_from(a, mm), bm = nmod_mont_from(b, mm);
      CHECK(am < p && nmod_mont_to(am, mm) == a);
      CHECK(nmod_mont_to(nmod_mont_mul(am, bm, mm), mm) == nmod_mul(a, b, m));
      CHECK(nmod_mont_to(nmod_mont_add(am, bm, mm), mm) == nmod_add(a, b, m));
      CHECK(nmod_mont_to(nmod_mont_neg(am, mm), mm) == nmod_neg(a, m));
      if (a != 0 && i % 16 == 0) CHECK(nmod_mont_to(nmod_mont_inv(am, mm), mm) == nmod_inv(a, m));
    }
  }
}

std::vector<u64> random_symbols(const FamilyDef& fam, std::mt19937_64& rng, u64 p) {
  std::vector<u64> v(fam.symbols.size());
  for (u64& x : v) x = rng() % p;
  return v;
}

void test_replay(const FamilyDef& tb, const Recording& rec, std::mt19937_64& rng) {
  const std::optional<LaneProgram> prog = compile_lanes(tb, rec);
  CHECK(prog.has_value());
  if (!prog) return;
  std::size_t tails = rec.tail_col.size();
  std::fprintf(stderr, "lanes: %zu rows, tail storage %u of %zu entries, %zu bytes per lane\n", rec.rows(),
               prog->tail_slots, tails, prog->lane_bytes());
  CHECK(prog->tail_slots <= tails);
  Replayer scalar(tb, rec);
  LaneReplayer lanes(tb, *prog);
  std::vector<u64> a, b;
  for (u64 p : test_primes(rng)) {
    const std::vector<u64> point = random_symbols(tb, rng, p);
    const bool ok = scalar.run(p, point, a);
    CHECK(lanes.run(p, point, b) == ok);
    CHECK(!ok || a == b);
  }
  // Integer points of d: where a pivot vanishes both must refuse the probe.
  int degenerate = 0;
  for (int d = 0; d <= 12; ++d) {
    std::vector<u64> point = random_symbols(tb, rng, kDefaultPrime);
    point[0] = static_cast<u64>(d);
    const bool ok = scalar.run(kDefaultPrime, point, a);
    CHECK(lanes.run(kDefaultPrime, point, b) == ok);
    CHECK(!ok || a == b);
    degenerate += !ok;
  }
  CHECK(degenerate > 0);
  // After a refused probe the lane's buffers are clean again.
  const std::vector<u64> point = random_symbols(tb, rng, kCheckPrimes[1]);
  CHECK(scalar.run(kCheckPrimes[1], point, a) && lanes.run(kCheckPrimes[1], point, b) && a == b);
}

void test_device_choice(const FamilyDef& tb, const Recording& rec) {
  CHECK(parse_device("auto") == Device::automatic && parse_device("cpu") == Device::cpu &&
        parse_device("cuda") == Device::cuda);
  CHECK_THROWS(parse_device("gpu"));
  ProbeDevice cpu(Device::cpu, tb, rec, 2);
  CHECK(!cpu.on_gpu() && cpu.description() == "cpu" && cpu.notice().empty());
  std::string why;
  const bool gpu = !cuda_device_name(why).empty();
  ProbeDevice automatic(Device::automatic, tb, rec, 2);
  CHECK(automatic.on_gpu() == gpu);
  // Without a GPU: the CPU runs, and the notice says why in one line.
  CHECK(gpu || (automatic.notice().find("CPU") != std::string::npos && automatic.notice().find('\n') == std::string::npos));
  if (!gpu) CHECK_THROWS(ProbeDevice(Device::cuda, tb, rec, 2));
  // Either way the values are the CPU replay's.
  std::vector<std::vector<u64>> points, x, y;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 40; ++i) points.push_back(random_symbols(tb, rng, kCheckPrimes[0]));
  cpu.replay(kCheckPrimes[0], points, x);
  automatic.replay(kCheckPrimes[0], points, y);
  CHECK(x.size() == points.size() && x == y);
}

}  // namespace

int main() {
  std::mt19937_64 rng(20261202);
  test_montgomery(rng);
  const FamilyDef tb = load_family("trianglebox");
  const std::vector<Integral> targets = {parse_family_integral(tb, "I[1,1,1,1,1,1,-1]"),
                                         parse_family_integral(tb, "I[2,1,1,1,1,1,-2]"),
                                         parse_family_integral(tb, "I[1,1,0,1,1,1,-2]"),
                                         parse_family_integral(tb, "I[2,0,0,0,0,0,0]")};
  const NumericPoint at = resolve_point(tb, "d=1234567/89,m1=1,m2=31,m3=47");
  const RecordedReduction rr = record_laporta(tb, at, kDefaultPrime, tb.masters, targets, {});
  test_replay(tb, rr.recording, rng);
  test_device_choice(tb, rr.recording);
  TEST_MAIN_END();
}
