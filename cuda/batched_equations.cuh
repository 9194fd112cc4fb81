// Batched evaluation of affine IBP coefficients c0 + sum_i c_i a_i (mod p) for many seeds at once
// on the GPU: one thread per (seed, term). Built only when CMake finds a CUDA toolkit; the CPU
// path (identities/identity_set.cpp) is the reference it must match.
#pragma once

#include <cstdint>
#include <vector>

namespace sailir::cuda {

struct AffineTerms {
  int n = 0;                       // propagators
  int terms = 0;                   // number of terms of all templates
  std::vector<std::uint64_t> c0;   // [terms]
  std::vector<std::uint64_t> lin;  // [terms * n], row-major
};

// seeds: [count * n] powers; out: [count * terms] coefficients modulo p.
void equation_coefficients(const AffineTerms& t, const std::vector<std::int8_t>& seeds, std::uint64_t p,
                           std::vector<std::uint64_t>& out);

}  // namespace sailir::cuda
