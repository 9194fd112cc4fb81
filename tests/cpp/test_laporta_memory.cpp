// The Laporta reducer's memory limit: a request far beyond it fails at once with the size it
// would need, light requests are unchanged, and a reducer that threw stays usable.
#include <chrono>

#include "check.hpp"
#include "family/family_source.hpp"
#include "laporta/laporta.hpp"
#include "memory/meter.hpp"
#include "laporta/seeds.hpp"

using namespace sailir;

namespace {

constexpr std::size_t kTwoGB = std::size_t{2} << 30;

std::vector<std::vector<std::pair<int, u64>>> reduce_with(const FamilyDef& fam, const NumericPoint& pt,
                                                           const Integral& x, std::size_t limit) {
  LaportaReducer red(fam, pt, kDefaultPrime, fam.masters);
  LaportaOptions opt;
  opt.memory_limit = limit;
  return red.reduce({x}, opt);
}

void check_helpers() {
  CHECK(format_size(900) == "900 B");
  CHECK(format_size(std::size_t{512} << 20) == "512 MB");
  CHECK(format_size(std::size_t{41'230} << 20) == "40.3 GB");
  CHECK(format_size(std::size_t{3} << 19) == "1.5 MB");
  CHECK(parse_size("32M") == std::size_t{32} << 20 && parse_size("1.5G") == std::size_t{3} << 29);
  CHECK(parse_size("65536") == 65536 && parse_size("64kB") == 65536);
  for (const char* bad : {"", "M", "-1M", "12Q", "0"}) {
    bool threw = false;
    try {
      parse_size(bad);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    CHECK(threw);
  }
  CHECK(default_memory_limit() > 0);  // Linux: MemAvailable is known
  for (auto [s, r, t] : {std::tuple{SectorId{63}, 8, 5}, {SectorId{28}, 5, 3}, {SectorId{0}, 2, 2}})
    CHECK(sector_seed_count(s, 7, r, t) == static_cast<double>(sector_seeds(s, 7, r, t).size()));
  CHECK(sector_seed_count(14, 7, 9, 127) > 1e8);
}

// (a) Far beyond the limit: thrown before the huge system is built, naming what it needs.
void check_far_beyond(const FamilyDef& fam, const NumericPoint& pt) {
  const auto start = std::chrono::steady_clock::now();
  bool thrown = false;
  try {
    reduce_with(fam, pt, integral_from_powers({1, 1, 1, 1, 1, 1, -127}), kTwoGB);
  } catch (const MemoryLimitError& e) {
    thrown = true;
    CHECK(e.needed > e.limit);
    CHECK(e.limit == kTwoGB);
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    CHECK(what.find("beyond the memory limit of 2 GB") != std::string::npos);
    std::printf("%s\n", what.c_str());
  }
  CHECK(thrown);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("I[1,1,1,1,1,1,-127] refused in %.2f s\n", secs);
  CHECK(secs < 5);  // about 1 s, mostly master finding; without the limit it runs out of memory
}

// (c) A tiny limit throws; the same reducer then reduces without it, and is destroyed cleanly.
void check_tiny_limit(const FamilyDef& fam, const NumericPoint& pt) {
  const Integral x = integral_from_powers({1, 1, 1, 1, 1, 1, -3});
  LaportaReducer red(fam, pt, kDefaultPrime, fam.masters);
  LaportaOptions opt;
  opt.memory_limit = 1'000'000;
  bool thrown = false;
  try {
    red.reduce({x}, opt);
  } catch (const MemoryLimitError& e) {
    thrown = e.needed > e.limit;
    std::printf("%s\n", e.what());
  }
  CHECK(thrown);
  CHECK(red.reduce({x}, {}) == reduce_with(fam, pt, x, 0));
}

// The check during elimination: it sees the system grow, its throw leaves the system
// destructible and solvable again.
void check_during_elimination(const FamilyDef& fam, const NumericPoint& pt) {
  nmod_t mod{kDefaultPrime};
  LaportaReducer red(fam, pt, mod.n, {});
  IdentitySet ids(fam, point_in_field(pt, mod), mod);
  LaportaOrder order(fam.n, {});
  SectorSystem sys(ids, order, 60, [&](SectorId s) { return red.is_zero_sector(s); });
  SolveOptions opt;
  std::size_t seen = 0, projected = 0;
  opt.memory_check = [&](std::size_t now, std::size_t proj) {
    seen = now;
    projected = proj;
    if (now > 20'000'000) throw MemoryLimitError("too big", proj, 20'000'000);
  };
  CHECK_THROWS(sys.solve(6, 10, opt));
  CHECK(seen > 20'000'000 && projected >= seen);
  sys.solve(5, 2);
  CHECK(sys.stats().pivots > 0);
}

}  // namespace

int main() {
  check_helpers();
  FamilyDef fam = load_family("trianglebox");
  NumericPoint pt = resolve_point(fam, "d=41,m1=1,m2=31,m3=47");
  check_far_beyond(fam, pt);
  // (b) A light integral reduces under the limit as without it.
  const Integral light = integral_from_powers({1, 1, 1, 1, 1, 1, 0});
  CHECK(reduce_with(fam, pt, light, kTwoGB) == reduce_with(fam, pt, light, 0));
  CHECK(!reduce_with(fam, pt, light, kTwoGB)[0].empty());
  check_tiny_limit(fam, pt);
  check_during_elimination(fam, pt);
  TEST_MAIN_END();
}
