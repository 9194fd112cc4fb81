// The GPU tests' skip without a usable device: they exit 77, which ctest reports as skipped.
#pragma once

#include <cstdio>

#include "device_info.cuh"

inline bool skip_without_gpu() {
  const sailir::cuda::DeviceInfo info = sailir::cuda::device_info();
  if (!info.usable) std::printf("no usable CUDA device (%s): skipped\n", info.why_not.c_str());
  return !info.usable;
}
