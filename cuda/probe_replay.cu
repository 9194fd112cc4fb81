#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <stdexcept>
#include <string>

#include "device_memory.cuh"
#include "probe_replay.cuh"

namespace sailir::cuda {

namespace {

__global__ void replay_kernel(LaneProgramView prog, LaneData data, std::uint32_t count) {
  const std::uint32_t lane = blockIdx.x * blockDim.x + threadIdx.x;
  if (lane < count) replay_lane(prog, data, lane);
}

}  // namespace

// The program's arrays on the device (uploaded once) and, per stream, one chunk's pinned inputs
// and outputs and its device buffers.
struct ProbeReplayer::Impl {
  const LaneProgram& prog;
  std::uint32_t lanes = 0;
  DeviceArray<std::uint32_t> term_begin, term_affine, term_col, row_lead, used_begin, used, tail_begin, tail_col,
      tail_slot, target_col, target_used_begin, target_used, master_col;
  DeviceArray<std::uint8_t> row_power, target_zero;
  LaneProgramView view{};

  struct Stream {
    cudaStream_t stream = nullptr;
    PinnedArray<nmod_mont_t> mod;
    PinnedArray<std::uint64_t> affine, powers, out;
    PinnedArray<std::uint8_t> bad, packed;  // packed: pack() accepted the lane
    DeviceArray<nmod_mont_t> d_mod;
    DeviceArray<std::uint64_t> d_affine, d_powers, d_acc, d_tail, d_out;
    DeviceArray<std::uint8_t> d_bad;
    std::size_t first = 0, count = 0;  // the probes in flight
    Stream(const LaneProgram& p, std::uint32_t L)
        : mod(L), affine(p.affine_entries() * L), powers(std::size_t(p.powers) * L), out(std::size_t(p.outputs()) * L),
          bad(L), packed(L), d_mod(L), d_affine(p.affine_entries() * L), d_powers(std::size_t(p.powers) * L),
          d_acc(std::size_t(p.columns()) * L), d_tail(std::size_t(p.tail_slots) * L),
          d_out(std::size_t(p.outputs()) * L), d_bad(L) {
      check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "stream");
    }
    ~Stream() { cudaStreamDestroy(stream); }
  };
  std::unique_ptr<Stream> streams[2];

  Impl(const LaneProgram& p, std::uint32_t max_lanes);
  void launch(Stream& s);
  void finish(Stream& s, const std::function<void(std::size_t, const std::uint64_t*)>& done, std::vector<std::uint64_t>& row);
};

ProbeReplayer::Impl::Impl(const LaneProgram& p, std::uint32_t max_lanes) : prog(p) {
  const DeviceInfo info = device_info();
  if (!info.usable) throw std::runtime_error("CUDA: " + info.why_not);
  const Recording& r = *p.rec;
  term_begin = DeviceArray<std::uint32_t>(r.term_begin);
  term_affine = DeviceArray<std::uint32_t>(p.term_affine);
  term_col = DeviceArray<std::uint32_t>(r.term_col);
  row_lead = DeviceArray<std::uint32_t>(r.row_lead);
  used_begin = DeviceArray<std::uint32_t>(r.used_begin);
  used = DeviceArray<std::uint32_t>(r.used);
  tail_begin = DeviceArray<std::uint32_t>(r.tail_begin);
  tail_col = DeviceArray<std::uint32_t>(r.tail_col);
  tail_slot = DeviceArray<std::uint32_t>(p.tail_slot);
  target_col = DeviceArray<std::uint32_t>(r.targets);
  target_used_begin = DeviceArray<std::uint32_t>(r.target_used_begin);
  target_used = DeviceArray<std::uint32_t>(r.target_used);
  master_col = DeviceArray<std::uint32_t>(r.masters);
  row_power = DeviceArray<std::uint8_t>(p.row_power);
  target_zero = DeviceArray<std::uint8_t>(r.target_zero);
  view = p.view();
  view.term_begin = term_begin.ptr;
  view.term_affine = term_affine.ptr;
  view.term_col = term_col.ptr;
  view.row_power = row_power.ptr;
  view.row_lead = row_lead.ptr;
  view.used_begin = used_begin.ptr;
  view.used = used.ptr;
  view.tail_begin = tail_begin.ptr;
  view.tail_col = tail_col.ptr;
  view.tail_slot = tail_slot.ptr;
  view.target_col = target_col.ptr;
  view.target_used_begin = target_used_begin.ptr;
  view.target_used = target_used.ptr;
  view.master_col = master_col.ptr;
  view.target_zero = target_zero.ptr;
  // Two streams' buffers in 90% of the free memory; lanes in whole warps.
  std::size_t free_bytes = 0, total = 0;
  check(cudaMemGetInfo(&free_bytes, &total), "memory info");
  const std::size_t fit = free_bytes / 10 * 9 / 2 / p.lane_bytes();
  lanes = static_cast<std::uint32_t>(std::min<std::size_t>({fit, max_lanes ? max_lanes : 65536u, 65536u}));
  if (lanes >= 32) lanes -= lanes % 32;
  if (lanes == 0)
    throw std::runtime_error("CUDA: one probe needs " + std::to_string(p.lane_bytes() >> 20) + " MB, more than the device has free");
  for (auto& s : streams) s = std::make_unique<Stream>(p, lanes);
}

void ProbeReplayer::Impl::launch(Stream& s) {
  const std::size_t L = lanes;
  check(cudaMemcpyAsync(s.d_mod.ptr, s.mod.ptr, L * sizeof(nmod_mont_t), cudaMemcpyHostToDevice, s.stream), "copy in");
  check(cudaMemcpyAsync(s.d_affine.ptr, s.affine.ptr, prog.affine_entries() * L * 8, cudaMemcpyHostToDevice, s.stream),
        "copy in");
  check(cudaMemcpyAsync(s.d_powers.ptr, s.powers.ptr, std::size_t(prog.powers) * L * 8, cudaMemcpyHostToDevice, s.stream),
        "copy in");
  check(cudaMemsetAsync(s.d_acc.ptr, 0, std::size_t(prog.columns()) * L * 8, s.stream), "memset");
  const LaneData data{lanes, s.d_mod.ptr, s.d_affine.ptr, s.d_powers.ptr, s.d_acc.ptr, s.d_tail.ptr, s.d_out.ptr, s.d_bad.ptr};
  const std::uint32_t block = 128, count = static_cast<std::uint32_t>(s.count);
  replay_kernel<<<(count + block - 1) / block, block, 0, s.stream>>>(view, data, count);
  check(cudaGetLastError(), "launch");
  check(cudaMemcpyAsync(s.out.ptr, s.d_out.ptr, std::size_t(prog.outputs()) * L * 8, cudaMemcpyDeviceToHost, s.stream),
        "copy out");
  check(cudaMemcpyAsync(s.bad.ptr, s.d_bad.ptr, L, cudaMemcpyDeviceToHost, s.stream), "copy out");
}

void ProbeReplayer::Impl::finish(Stream& s, const std::function<void(std::size_t, const std::uint64_t*)>& done,
                                 std::vector<std::uint64_t>& row) {
  if (s.count == 0) return;
  check(cudaStreamSynchronize(s.stream), "replay");
  const std::size_t F = prog.outputs();
  for (std::size_t lane = 0; lane < s.count; ++lane) {
    if (!s.packed.ptr[lane] || s.bad.ptr[lane]) {
      done(s.first + lane, nullptr);
      continue;
    }
    for (std::size_t f = 0; f < F; ++f) row[f] = s.out.ptr[f * lanes + lane];
    done(s.first + lane, row.data());
  }
  s.count = 0;
}

ProbeReplayer::ProbeReplayer(const LaneProgram& prog, std::uint32_t max_lanes)
    : impl_(std::make_unique<Impl>(prog, max_lanes)) {}
ProbeReplayer::~ProbeReplayer() = default;
std::uint32_t ProbeReplayer::lanes_per_launch() const { return impl_->lanes; }

void ProbeReplayer::run(std::size_t count,
                        const std::function<bool(std::size_t, const LaneInputsView&, std::uint32_t)>& pack,
                        const std::function<void(std::size_t, const std::uint64_t*)>& done, int host_threads) {
  Impl& m = *impl_;
  std::vector<std::uint64_t> row(m.prog.outputs());
  const nmod_mont_t idle = nmod_mont_init(kDefaultPrime);  // a valid modulus for lanes that are skipped
  int k = 0;
  for (std::size_t first = 0; first < count; first += m.lanes, k ^= 1) {
    Impl::Stream& s = *m.streams[k];
    m.finish(s, done, row);  // its pinned buffers are about to be refilled
    s.first = first;
    s.count = std::min<std::size_t>(m.lanes, count - first);
    const LaneInputsView in{m.lanes, s.mod.ptr, s.affine.ptr, s.powers.ptr};
    std::atomic<std::uint32_t> next{0};
    std::mutex failed_mu;
    std::exception_ptr failed;  // a packer's exception, rethrown here once all have stopped
    auto packer = [&] {
      try {
        for (std::uint32_t lane; (lane = next++) < s.count;) {
          s.packed.ptr[lane] = pack(first + lane, in, lane) ? 1 : 0;
          if (!s.packed.ptr[lane]) s.mod.ptr[lane] = idle;
        }
      } catch (...) {
        std::lock_guard lock(failed_mu);
        failed = std::current_exception();
        next = static_cast<std::uint32_t>(s.count);
      }
    };
    {
      std::vector<std::jthread> pool;
      for (int t = 1; t < std::min<int>(host_threads, static_cast<int>(s.count)); ++t) pool.emplace_back(packer);
      packer();
    }
    if (failed) {  // drop the chunks in flight, so that a later run starts clean
      for (auto& other : m.streams) {
        cudaStreamSynchronize(other->stream);
        other->count = 0;
      }
      std::rethrow_exception(failed);
    }
    m.launch(s);
  }
  m.finish(*m.streams[k], done, row);  // the older chunk first, so probes come back in order
  m.finish(*m.streams[k ^ 1], done, row);
}

}  // namespace sailir::cuda
