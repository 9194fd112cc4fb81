// RAII arrays in device memory and in pinned host memory, and the one-line error of a failed
// CUDA call, shared by the CUDA backends.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sailir::cuda {

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
}

// Device memory that keeps its storage and grows when asked for more (reserve, upload).
template <class T>
class DeviceArray {
 public:
  T* ptr = nullptr;
  DeviceArray() = default;
  explicit DeviceArray(std::size_t count) { reserve(count); }
  explicit DeviceArray(const std::vector<T>& host) { upload(host); }
  ~DeviceArray() { cudaFree(ptr); }
  DeviceArray(DeviceArray&& o) noexcept : ptr(std::exchange(o.ptr, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    std::swap(ptr, o.ptr);
    std::swap(size_, o.size_);
    return *this;
  }
  T* reserve(std::size_t n) {
    n = std::max<std::size_t>(n, 1);
    if (n > size_) {
      cudaFree(ptr);
      ptr = nullptr;
      size_ = 0;
      check(cudaMalloc(&ptr, n * sizeof(T)), "malloc");
      size_ = n;
    }
    return ptr;
  }
  T* upload(const std::vector<T>& v) {
    reserve(v.size());
    if (!v.empty()) check(cudaMemcpy(ptr, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "upload");
    return ptr;
  }

 private:
  std::size_t size_ = 0;
};

// Page-locked host memory: copies from and to it overlap kernels (cudaMemcpyAsync).
template <class T>
struct PinnedArray {
  T* ptr = nullptr;
  explicit PinnedArray(std::size_t count) {
    check(cudaMallocHost(&ptr, std::max<std::size_t>(count, 1) * sizeof(T)), "pinned malloc");
  }
  ~PinnedArray() { cudaFreeHost(ptr); }
  PinnedArray(const PinnedArray&) = delete;
  PinnedArray& operator=(const PinnedArray&) = delete;
};

}  // namespace sailir::cuda
