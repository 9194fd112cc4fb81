// Where probes run: a CUDA device replays a recording at thousands of probes per launch
// (cuda/probe_replay.cuh); the CPU replays them on worker threads (recording/replay.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "device/device.hpp"
#include "family/family_file.hpp"
#include "recording/recording.hpp"

namespace sailir {

// Replays one recording at batches of probes on the chosen device. Made once per
// reconstruction: the GPU gets the recording once.
class ProbeDevice {
 public:
  // Resolves `requested`: throws DeviceUnavailable for cuda without a usable device; for auto
  // without one, notice() says why the CPU runs. `max_lanes` caps the lanes per GPU launch (0:
  // sized for the device's memory).
  ProbeDevice(Device requested, const FamilyDef& family, const Recording& rec, int threads, std::uint32_t max_lanes = 0);
  ~ProbeDevice();
  ProbeDevice(const ProbeDevice&) = delete;
  ProbeDevice& operator=(const ProbeDevice&) = delete;

  bool on_gpu() const;
  // "cpu" or "cuda (NAME)".
  const std::string& description() const { return description_; }
  const std::string& notice() const { return notice_; }
  // Probes per replay call that keep the device busy: two GPU launches' worth (the next one is
  // packed while the last runs), else the CPU's usual batch.
  std::size_t preferred_batch() const;
  // values[i]: targets x masters coefficients at points[i] modulo prime, empty where a pivot
  // vanishes. Returns the replay's cost: on the CPU its time summed over the threads (the cost on
  // one core), on the GPU the call's wall time (host packing included).
  double replay(u64 prime, const std::vector<std::vector<u64>>& points, std::vector<std::vector<u64>>& values);

 private:
  struct Gpu;
  const FamilyDef& family_;
  const Recording& rec_;
  int threads_;
  std::unique_ptr<Gpu> gpu_;
  std::string description_ = "cpu", notice_;
};

}  // namespace sailir
