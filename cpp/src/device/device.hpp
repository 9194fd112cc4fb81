// The backend a run uses: `--device cuda|cpu|auto`. `auto` takes a CUDA GPU when this build has
// CUDA support and a device is usable, and otherwise runs on the CPU with a one-line notice that
// says why; `cuda` without a usable GPU is bad input.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace sailir {

enum class Device { automatic, cpu, cuda };

// "auto", "cpu" or "cuda"; throws std::invalid_argument (one line) otherwise.
Device parse_device(std::string_view text);
const char* device_name(Device d);

// `--device cuda` where no CUDA device can be used (or the build has no CUDA support): one line
// saying why (bad input, exit 2).
struct DeviceUnavailable : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Whether this build compiled the CUDA kernels (CMake found a CUDA toolkit).
bool cuda_built();
// The first usable CUDA device's name, or "" with `why` set.
std::string cuda_device_name(std::string& why);
// The CUDA device a backend resolving `requested` gets, or "" for the CPU: never for cpu; for
// cuda a usable one, else DeviceUnavailable; for auto a usable one, else "" with `notice` saying
// why `work` (e.g. "probes run") happens on the CPU.
std::string choose_cuda(Device requested, const std::string& work, std::string& notice);

}  // namespace sailir
