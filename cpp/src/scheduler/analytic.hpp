// Exact reductions: a recording replayed at probes (random points of the free symbols, several
// primes, on worker threads) and its coefficients reconstructed as rational functions of d and
// every invariant the caller did not fix.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "family/family_file.hpp"
#include "family/point.hpp"
#include "recording/recording.hpp"
#include "device/probe_device.hpp"

namespace sailir {

// Replays a batch of probes elsewhere (a cluster): the recording (its file text, the same for every
// call of one reconstruction), then points that give every family symbol's value modulo `prime`;
// values[i] stays empty where a pivot vanishes.
using ProbeRunner = std::function<void(const std::string& recording, u64 prime, const std::vector<std::vector<u64>>& points,
                                       std::vector<std::vector<u64>>& values)>;

struct AnalyticOptions {
  int threads = 2;
  ProbeRunner runner;  // empty: probes run here, on `device`
  Device device = Device::automatic;
  std::uint32_t max_lanes = 0;  // GPU lanes per launch (0: sized for the device)
  std::size_t max_probes = 1000000;
  std::uint64_t seed = 1;
  std::function<void(const std::string&)> progress;  // may be empty
  std::function<void(const std::string&)> notice;    // the device's fallback notice; may be empty
};

struct AnalyticResult {
  std::vector<std::string> symbols;  // the free symbols, in the family's order
  NumericPoint fixed;                // the symbols given values (symbol_to_replace_by_one among them)
  std::vector<Integral> masters, targets;
  std::vector<std::vector<std::string>> coefficients;  // per target, per master; "0" where it vanishes
  std::size_t probes = 0;
  int primes = 0;
  double probe_seconds = 0, seconds = 0;
  double seconds_per_probe = 0;  // replay time on one core per probe, or the GPU's per probe (0 when probes ran elsewhere)
  std::string device;            // where probes ran: "cpu", "cuda (NAME)" or "cluster"
  std::string device_notice;     // why auto chose the CPU ("" otherwise)
  double record_seconds = 0;     // finding and recording the reduction (the caller's)
  RecordingSize size;
};

// The symbols `spec` fixes ("m2=31,m3=47"), with symbol_to_replace_by_one set to 1; throws
// std::invalid_argument for an unknown symbol or a malformed value.
NumericPoint fixed_symbols(const FamilyDef& family, std::string_view spec);
// A random point for recording: the fixed values, random rationals for the free symbols.
NumericPoint recording_point(const FamilyDef& family, const NumericPoint& fixed, std::uint64_t seed);

// Throws NotConvergedError (reconstruct/reconstruct.hpp) when the probe budget runs out, and
// RecordingError when the recording does not keep its structure at a fresh point.
AnalyticResult reconstruct_recording(const FamilyDef& family, const Recording& rec, const NumericPoint& fixed,
                                     const AnalyticOptions& options);

}  // namespace sailir
