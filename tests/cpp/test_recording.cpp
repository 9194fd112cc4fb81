// Recordings of Laporta reductions: a replay at the recording's own prime and point reproduces the
// reduction exactly; at another point it agrees with a fresh reduction there; the file round-trips;
// corrupt files and files of another family are refused.
#include <chrono>
#include <cstdio>

#include "check.hpp"
#include "family/family_source.hpp"
#include "laporta/laporta_recording.hpp"
#include "recording/replay.hpp"

using namespace sailir;

namespace {

std::vector<u64> dense(const std::vector<std::vector<std::pair<int, u64>>>& coefs, std::size_t nm) {
  std::vector<u64> out(coefs.size() * nm, 0);
  for (std::size_t t = 0; t < coefs.size(); ++t)
    for (auto [m, v] : coefs[t]) out[t * nm + m] = v;
  return out;
}

template <class E, class F>
bool throws(F&& f) {
  try {
    f();
  } catch (const E&) {
    return true;
  }
  return false;
}

}  // namespace

int main() {
  FamilyDef tb = load_family("trianglebox");
  const std::vector<Integral> targets = {parse_family_integral(tb, "I[1,1,1,1,1,1,-1]"),
                                         parse_family_integral(tb, "I[1,1,0,1,1,1,-2]"),
                                         parse_family_integral(tb, "I[0,1,1,1,0,0,0]"),
                                         parse_family_integral(tb, "I[2,0,0,0,0,0,0]")};
  const NumericPoint at = resolve_point(tb, "d=1234567/89,m1=1,m2=31,m3=47");
  RecordedReduction rr = record_laporta(tb, at, kDefaultPrime, tb.masters, targets, {});
  const Recording& rec = rr.recording;
  CHECK(rec.rows() > 0 && rec.masters.size() == 16 && rec.targets.size() == targets.size());
  CHECK(rec.target_zero[3] == 1);  // a tadpole of a massless line: a zero sector
  std::fprintf(stderr, "recording: %zu rows, %zu multiply-adds\n", rec.rows(), rec.size().multiply_adds);

  // Its own prime and point: exactly the reduction it came from (checked structure on the way).
  Replayer replayer(tb, rec);
  std::vector<u64> out;
  CHECK(replayer.run(kDefaultPrime, point_in_field(at, nmod_t{kDefaultPrime}), out, true));
  std::vector<u64> expect;
  for (auto& row : rr.values) expect.insert(expect.end(), row.begin(), row.end());
  CHECK(out == expect);

  // Another prime and point: a fresh Laporta reduction there.
  const NumericPoint other = resolve_point(tb, "d=41/3,m1=1,m2=17,m3=5/7");
  const u64 p2 = kCheckPrimes[1];
  LaportaReducer fresh(tb, other, p2, tb.masters);
  CHECK(fresh.masters() == rec.master_integrals());
  const auto coefs = fresh.reduce(targets, {});
  CHECK(replayer.run(p2, point_in_field(other, nmod_t{p2}), out, true));
  CHECK(out == dense(coefs, 16));

  // The file: round trip, corruption, another family.
  const std::string text = rec.to_text();
  const Recording back = Recording::parse(text, tb);
  CHECK(back.to_text() == text);
  Replayer again(tb, back);
  std::vector<u64> out2;
  CHECK(again.run(p2, point_in_field(other, nmod_t{p2}), out2) && out2 == out);
  std::string bad = text;
  bad[bad.size() / 2] = bad[bad.size() / 2] == '1' ? '2' : '1';
  CHECK(throws<RecordingFileError>([&] { Recording::parse(bad, tb); }));
  CHECK(throws<RecordingFileError>([&] { Recording::parse(text.substr(0, text.size() / 3), tb); }));
  CHECK(throws<RecordingFileError>([&] { Recording::parse(text, load_family("prop2l")); }));
  CHECK(!is_recording_text("sailir-path 2\n"));

  // The per-probe cost, for the record (not asserted).
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) replayer.run(p2, point_in_field(other, nmod_t{p2}), out);
  std::fprintf(stderr, "replay: %.2f ms per probe\n",
               1e3 * std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 20);
  return g_failures ? 1 : 0;
}
