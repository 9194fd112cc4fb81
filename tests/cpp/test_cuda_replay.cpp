// The GPU's batched probe replay must equal the CPU's bit for bit at the same probes, across
// several chunks (a partial one included), bad probes included. Exits 77 (skipped) without a
// usable CUDA device.
#include <cstdio>
#include <random>

#include "check.hpp"
#include "cuda_skip.hpp"
#include "family/family_source.hpp"
#include "laporta/laporta_recording.hpp"
#include "probe_replay.cuh"
#include "recording/replay.hpp"
#include "device/probe_device.hpp"

using namespace sailir;

int main() {
  if (skip_without_gpu()) return 77;
  const FamilyDef tb = load_family("trianglebox");
  const std::vector<Integral> targets = {parse_family_integral(tb, "I[2,1,2,1,2,2,-4]"),
                                         parse_family_integral(tb, "I[1,1,0,1,1,1,-2]")};
  const NumericPoint at = resolve_point(tb, "d=1234567/89,m1=1,m2=31,m3=47");
  const RecordedReduction rr = record_laporta(tb, at, kDefaultPrime, tb.masters, targets, {});
  const Recording& rec = rr.recording;
  const std::optional<LaneProgram> prog = compile_lanes(tb, rec);
  CHECK(prog.has_value());
  std::mt19937_64 rng(7);
  const std::size_t count = 300;  // five chunks of 64 lanes, the last one partial
  std::vector<std::vector<u64>> points(count);
  std::vector<u64> primes(count);
  for (std::size_t i = 0; i < count; ++i) {
    primes[i] = i % 3 ? kDefaultPrime : kCheckPrimes[i % 4];  // lanes of one launch with different primes
    for (std::size_t k = 0; k < tb.symbols.size(); ++k) points[i].push_back(rng() % primes[i]);
    if (i % 37 == 0) points[i][0] = 4;  // d = 4: a vanishing pivot where the CPU finds one
  }
  std::vector<std::vector<u64>> gpu(count);
  std::vector<int> seen(count, 0);
  cuda::ProbeReplayer replayer(*prog, 64);
  CHECK(replayer.lanes_per_launch() == 64);
  replayer.run(
      count, [&](std::size_t i, const LaneInputsView& in, std::uint32_t lane) { return pack_lane(tb, *prog, primes[i], points[i], in, lane); },
      [&](std::size_t i, const std::uint64_t* row) {
        ++seen[i];
        if (row) gpu[i].assign(row, row + prog->outputs());
      },
      2);
  Replayer cpu(tb, rec);
  std::vector<u64> out;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < count; ++i) {
    CHECK(seen[i] == 1);
    const bool ok = cpu.run(primes[i], points[i], out);
    CHECK(ok == !gpu[i].empty());
    CHECK(!ok || out == gpu[i]);
    bad += !ok;
  }
  std::printf("%zu probes, %zu bad, bit for bit equal to the CPU\n", count, bad);
  // The engine's device choice finds it.
  ProbeDevice device(Device::cuda, tb, rec, 2);
  CHECK(device.on_gpu() && device.notice().empty());
  TEST_MAIN_END();
}
