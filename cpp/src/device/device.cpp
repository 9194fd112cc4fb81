#include "device/device.hpp"

#ifdef SAILIR_HAVE_CUDA
#include "device_info.cuh"
#endif

namespace sailir {

Device parse_device(std::string_view text) {
  if (text == "auto") return Device::automatic;
  if (text == "cpu") return Device::cpu;
  if (text == "cuda") return Device::cuda;
  throw std::invalid_argument("--device must be auto, cpu or cuda, not '" + std::string(text) + "'");
}

const char* device_name(Device d) {
  switch (d) {
    case Device::cpu: return "cpu";
    case Device::cuda: return "cuda";
    default: return "auto";
  }
}

bool cuda_built() {
#ifdef SAILIR_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

std::string cuda_device_name(std::string& why) {
#ifdef SAILIR_HAVE_CUDA
  const cuda::DeviceInfo info = cuda::device_info();
  why = info.why_not;
  return info.usable ? info.name : "";
#else
  why = "this build of sailir has no CUDA support (no CUDA toolkit was found when it was built)";
  return "";
#endif
}

std::string choose_cuda(Device requested, const std::string& work, std::string& notice) {
  if (requested == Device::cpu) return "";
  std::string why;
  const std::string name = cuda_device_name(why);
  if (name.empty()) {
    if (requested == Device::cuda) throw DeviceUnavailable("--device cuda: " + why + "; use --device cpu or auto");
    notice = "no usable CUDA device (" + why + "): " + work + " on the CPU";
  }
  return name;
}

}  // namespace sailir
