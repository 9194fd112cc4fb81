// record_again (scheduler/path_recording.hpp): a recording made once more at another point from
// its own equations. At generic points its replay equals the original's, value for value, at the
// new point and at further random points and primes; at its own prime and point it reproduces
// the original there. (The case it exists for, fixed values where an original pivot vanishes,
// is box2l's and runs in the slow Python tests: tests/python/test_box2l_symmetries.py.)
#include <random>

#include "check.hpp"
#include "family/family_source.hpp"
#include "laporta/laporta_recording.hpp"
#include "recording/replay.hpp"
#include "scheduler/path_recording.hpp"

using namespace sailir;

namespace {

std::vector<u64> replay(const FamilyDef& fam, const Recording& rec, u64 prime, const std::vector<u64>& at) {
  std::vector<u64> out;
  CHECK(Replayer(fam, rec).run(prime, at, out, true));
  return out;
}

}  // namespace

int main() {
  const FamilyDef tb = load_family("trianglebox");
  std::vector<Integral> targets;
  for (const char* t : {"I[1,1,1,1,1,1,-1]", "I[2,1,1,1,1,1,-2]", "I[1,1,0,1,1,1,-2]", "I[2,0,0,0,0,0,0]"})
    targets.push_back(parse_family_integral(tb, t));
  const NumericPoint first = resolve_point(tb, "d=1234567/89,m1=1,m2=31,m3=47");
  const Recording rec = record_laporta(tb, first, kDefaultPrime, tb.masters, targets, {}).recording;

  const NumericPoint second = resolve_point(tb, "d=97/13,m1=1,m2=-5/7,m3=211/3");
  const u64 prime = kCheckPrimes[1];
  const Recording again = record_again(tb, rec, second, prime);
  CHECK(again.prime == prime && again.point == second);
  CHECK(again.master_integrals() == rec.master_integrals() && again.target_integrals() == rec.target_integrals());
  CHECK(again.rows() <= rec.rows());
  const std::vector<u64> here = point_in_field(second, nmod_t{prime});
  CHECK(replay(tb, again, prime, here) == replay(tb, rec, prime, here));

  std::mt19937_64 rng(20261202);
  for (u64 p : {kDefaultPrime, kCheckPrimes[0], kCheckPrimes[2]})
    for (int k = 0; k < 3; ++k) {
      std::vector<u64> at(tb.symbols.size());
      for (u64& x : at) x = 1 + rng() % (p - 1);
      CHECK(replay(tb, again, p, at) == replay(tb, rec, p, at));
    }
  TEST_MAIN_END();
}
