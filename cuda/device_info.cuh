// What CUDA device this machine offers, if any. Built only when CMake finds a CUDA toolkit.
#pragma once

#include <cstddef>
#include <string>

namespace sailir::cuda {

// The first CUDA device, or why there is none usable ("no CUDA device", "CUDA driver is older
// than the runtime", ...).
struct DeviceInfo {
  bool usable = false;
  std::string name, why_not;
  std::size_t free_bytes = 0, total_bytes = 0;
  int multiprocessors = 0;
};
DeviceInfo device_info();

}  // namespace sailir::cuda
