// A minimal parallel loop for the reconstruction's per-function work, which runs between
// black-box calls while the cores are otherwise idle.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sailir::recon {

// Calls fn(begin, end) on disjoint ranges covering [0, n), on up to one thread per core, each
// range holding at least `grain` items (so small loops stay on the calling thread). The first
// exception thrown by any range is rethrown here.
template <class Fn>
void parallel_for(std::size_t n, std::size_t grain, Fn&& fn) {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t threads = std::min(cores, n / std::max<std::size_t>(grain, 1));
  if (threads <= 1) {
    if (n > 0) fn(std::size_t{0}, n);
    return;
  }
  std::exception_ptr error;
  std::mutex lock;
  auto run = [&](std::size_t t) {
    try {
      fn(n * t / threads, n * (t + 1) / threads);
    } catch (...) {
      std::lock_guard<std::mutex> g(lock);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace sailir::recon
