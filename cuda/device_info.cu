#include <cuda_runtime.h>

#include <string>

#include "device_info.cuh"

namespace sailir::cuda {

DeviceInfo device_info() {
  DeviceInfo info;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    int driver = 0;
    cudaDriverGetVersion(&driver);  // 0: no driver is installed at all
    if (driver == 0)
      info.why_not = "no NVIDIA driver found";
    else if (e == cudaErrorInsufficientDriver)
      info.why_not = "the NVIDIA driver (CUDA " + std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10) +
                     ") is older than this build's CUDA runtime (" + std::to_string(CUDART_VERSION / 1000) + "." +
                     std::to_string(CUDART_VERSION % 1000 / 10) + ")";
    else
      info.why_not = e != cudaSuccess ? cudaGetErrorString(e) : "no CUDA device";
    cudaGetLastError();  // clear the sticky error for later calls
    return info;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess || cudaMemGetInfo(&info.free_bytes, &info.total_bytes) != cudaSuccess) {
    info.why_not = cudaGetErrorString(cudaGetLastError());
    return info;
  }
  info.usable = true;
  info.name = prop.name;
  info.multiprocessors = prop.multiProcessorCount;
  return info;
}

}  // namespace sailir::cuda
