// Integrals as compact fixed-size keys: one signed byte per propagator power, up to 16
// propagators, so a key is 16 bytes, hashes in two words and compares with memcmp.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sailir {

inline constexpr int kMaxPropagators = 16;
inline constexpr int kMaxPower = 127;

struct Integral {
  std::array<std::int8_t, kMaxPropagators> a{};

  bool operator==(const Integral& o) const { return std::memcmp(a.data(), o.a.data(), kMaxPropagators) == 0; }
};

struct IntegralHash {
  std::size_t operator()(const Integral& x) const {
    std::uint64_t w[2];
    std::memcpy(w, x.a.data(), sizeof w);
    std::uint64_t h = w[0] * 0x9E3779B97F4A7C15ULL ^ std::rotl(w[1] * 0xC2B2AE3D27D4EB4FULL, 31);
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

using SectorId = std::uint32_t;

// Sector: bit i set when propagator i+1 has a positive power. Powers past n are zero, so all 16
// bytes can be compared at once.
inline SectorId sector_of(const Integral& x, [[maybe_unused]] int n) {
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.a.data()));
  return static_cast<SectorId>(_mm_movemask_epi8(_mm_cmpgt_epi8(v, _mm_setzero_si128())));
#else
  SectorId s = 0;
  for (int i = 0; i < kMaxPropagators; ++i)
    if (x.a[i] > 0) s |= SectorId{1} << i;
  return s;
#endif
}
// Without a popcnt instruction in the target ISA, std::popcount is a library call; every ranked
// term asks for its line count, so count bits inline then.
inline int lines_of(SectorId s) {
#if defined(__POPCNT__) || !defined(__x86_64__)
  return std::popcount(s);
#else
  s = s - ((s >> 1) & 0x55555555u);
  s = (s & 0x33333333u) + ((s >> 2) & 0x33333333u);
  s = (s + (s >> 4)) & 0x0F0F0F0Fu;
  return static_cast<int>((s * 0x01010101u) >> 24);
#endif
}
// r: sum of positive powers; s: minus the sum of negative powers. Powers past n are zero, so
// with SSE2 all 16 bytes are summed at once (searches rank every term they meet).
inline int r_of(const Integral& x, [[maybe_unused]] int n) {
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.a.data()));
  const __m128i pos = _mm_and_si128(v, _mm_cmpgt_epi8(v, _mm_setzero_si128()));
  const __m128i sum = _mm_sad_epu8(pos, _mm_setzero_si128());
  return _mm_cvtsi128_si32(sum) + _mm_extract_epi16(sum, 4);
#else
  int r = 0;
  for (int i = 0; i < n; ++i) r += x.a[i] > 0 ? x.a[i] : 0;
  return r;
#endif
}
inline int s_of(const Integral& x, [[maybe_unused]] int n) {
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.a.data()));
  const __m128i neg = _mm_sub_epi8(_mm_setzero_si128(), _mm_and_si128(v, _mm_cmplt_epi8(v, _mm_setzero_si128())));
  const __m128i sum = _mm_sad_epu8(neg, _mm_setzero_si128());
  return _mm_cvtsi128_si32(sum) + _mm_extract_epi16(sum, 4);
#else
  int s = 0;
  for (int i = 0; i < n; ++i) s += x.a[i] < 0 ? -x.a[i] : 0;
  return s;
#endif
}

// "I[2,1,-1]" for an n-propagator family.
std::string format_integral(const Integral& x, int n);
// Parses "I[...]" (spaces allowed) with exactly n integer powers in [-127, 127]; throws
// std::invalid_argument with a one-line message naming what is wrong.
Integral parse_integral(std::string_view text, int n);
Integral integral_from_powers(const std::vector<int>& powers);

}  // namespace sailir
