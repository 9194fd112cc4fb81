#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "batched_equations.cuh"

namespace sailir::cuda {

namespace {

__device__ inline std::uint64_t mulmod(std::uint64_t a, std::uint64_t b, std::uint64_t p) {
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(a) * b % p);
}

__global__ void coefficients_kernel(int n, int terms, const std::uint64_t* c0, const std::uint64_t* lin,
                                    const std::int8_t* seeds, long long count, std::uint64_t p,
                                    std::uint64_t* out) {
  long long idx = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= count * terms) return;
  const long long seed = idx / terms;
  const int term = static_cast<int>(idx % terms);
  std::uint64_t c = c0[term];
  for (int i = 0; i < n; ++i) {
    const int a = seeds[seed * n + i];
    const std::uint64_t av = a >= 0 ? static_cast<std::uint64_t>(a) : p - static_cast<std::uint64_t>(-a);
    c += mulmod(lin[term * n + i], av, p);
    if (c >= p) c -= p;
  }
  out[idx] = c;
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
}

template <class T>
struct DeviceBuffer {
  T* ptr = nullptr;
  explicit DeviceBuffer(std::size_t count) { check(cudaMalloc(&ptr, count * sizeof(T) + 1), "malloc"); }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

}  // namespace

void equation_coefficients(const AffineTerms& t, const std::vector<std::int8_t>& seeds, std::uint64_t p,
                           std::vector<std::uint64_t>& out) {
  const long long count = t.n ? static_cast<long long>(seeds.size() / t.n) : 0;
  out.assign(static_cast<std::size_t>(count) * t.terms, 0);
  if (out.empty()) return;
  DeviceBuffer<std::uint64_t> c0(t.c0.size()), lin(t.lin.size()), res(out.size());
  DeviceBuffer<std::int8_t> s(seeds.size());
  check(cudaMemcpy(c0.ptr, t.c0.data(), t.c0.size() * 8, cudaMemcpyHostToDevice), "copy");
  check(cudaMemcpy(lin.ptr, t.lin.data(), t.lin.size() * 8, cudaMemcpyHostToDevice), "copy");
  check(cudaMemcpy(s.ptr, seeds.data(), seeds.size(), cudaMemcpyHostToDevice), "copy");
  const int block = 256;
  const long long total = count * t.terms;
  coefficients_kernel<<<static_cast<unsigned>((total + block - 1) / block), block>>>(t.n, t.terms, c0.ptr, lin.ptr,
                                                                                      s.ptr, count, p, res.ptr);
  check(cudaGetLastError(), "launch");
  check(cudaMemcpy(out.data(), res.ptr, out.size() * 8, cudaMemcpyDeviceToHost), "copy back");
}

}  // namespace sailir::cuda
