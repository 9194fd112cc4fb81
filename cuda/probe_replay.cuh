// Batched probe replay on a CUDA device: one recording (a LaneProgram) uploaded once, then
// thousands of probes per launch, one per thread, running recording/lane_replay.hpp, the same
// code the CPU runs. Host packing of the next chunk overlaps the device's work on the current one
// (two streams, pinned buffers). Built only when CMake finds a CUDA toolkit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "device_info.cuh"
#include "recording/lane_program.hpp"

namespace sailir::cuda {


class ProbeReplayer {
 public:
  // Uploads the program; `max_lanes` caps the lanes per launch (0: as many as half the free
  // device memory holds for each of the two streams, at most 65536). Throws std::runtime_error
  // (one line, naming the CUDA call) on any device failure.
  explicit ProbeReplayer(const LaneProgram& prog, std::uint32_t max_lanes = 0);
  ~ProbeReplayer();
  ProbeReplayer(const ProbeReplayer&) = delete;
  ProbeReplayer& operator=(const ProbeReplayer&) = delete;

  std::uint32_t lanes_per_launch() const;

  // Replays `count` probes. pack(i, inputs, lane) writes probe i's inputs into lane `lane` of a
  // pinned chunk (false: the probe is bad, its lane is skipped); done(i, values) receives probe
  // i's targets x masters coefficients, or nullptr for a bad probe, in probe order. pack runs on
  // `host_threads` threads while the device works on the previous chunk.
  void run(std::size_t count, const std::function<bool(std::size_t, const LaneInputsView&, std::uint32_t)>& pack,
           const std::function<void(std::size_t, const std::uint64_t*)>& done, int host_threads = 1);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sailir::cuda
