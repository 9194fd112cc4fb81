#include "device/probe_device.hpp"

#include <chrono>

#include "reconstruct/reconstruct.hpp"
#include "recording/lane_program.hpp"
#include "recording/replay.hpp"

#ifdef SAILIR_HAVE_CUDA
#include "probe_replay.cuh"
#endif

namespace sailir {

#ifdef SAILIR_HAVE_CUDA
struct ProbeDevice::Gpu {
  LaneProgram program;
  cuda::ProbeReplayer replayer;
  Gpu(LaneProgram p, std::uint32_t max_lanes) : program(std::move(p)), replayer(program, max_lanes) {}
};
#else
struct ProbeDevice::Gpu {};
#endif

ProbeDevice::ProbeDevice(Device requested, const FamilyDef& family, const Recording& rec, int threads,
                         std::uint32_t max_lanes)
    : family_(family), rec_(rec), threads_(threads) {
  const std::string name = choose_cuda(requested, "probes run", notice_);
  if (name.empty()) return;
#ifdef SAILIR_HAVE_CUDA
  std::optional<LaneProgram> prog = compile_lanes(family, rec);
  if (!prog) {
    if (requested == Device::cuda)
      throw DeviceUnavailable("--device cuda: this family's identities are not affine in the seed powers");
    notice_ = "this family's identities are not affine in the seed powers: probes run on the CPU";
    return;
  }
  gpu_ = std::make_unique<Gpu>(std::move(*prog), max_lanes);
  description_ = "cuda (" + name + ")";
#else
  (void)max_lanes;
#endif
}

ProbeDevice::~ProbeDevice() = default;

bool ProbeDevice::on_gpu() const { return gpu_ != nullptr; }

std::size_t ProbeDevice::preferred_batch() const {
#ifdef SAILIR_HAVE_CUDA
  if (gpu_) return 2 * std::size_t{gpu_->replayer.lanes_per_launch()};
#endif
  return Blackbox{}.batch_points;
}

double ProbeDevice::replay(u64 prime, const std::vector<std::vector<u64>>& points, std::vector<std::vector<u64>>& values) {
#ifdef SAILIR_HAVE_CUDA
  if (gpu_) {
    const auto t0 = std::chrono::steady_clock::now();
    values.assign(points.size(), {});
    const std::uint32_t outputs = gpu_->program.outputs();
    gpu_->replayer.run(
        points.size(),
        [&](std::size_t i, const LaneInputsView& in, std::uint32_t lane) {
          return pack_lane(family_, gpu_->program, prime, points[i], in, lane);
        },
        [&](std::size_t i, const std::uint64_t* row) {
          if (row) values[i].assign(row, row + outputs);
        },
        threads_);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
#endif
  return replay_many(family_, rec_, prime, points, values, threads_);
}

}  // namespace sailir
