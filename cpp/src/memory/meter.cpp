#include "memory/meter.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <stdexcept>

namespace sailir {

namespace {

thread_local MemoryMeter* tl_meter = nullptr;

// Each block starts with its meter, padded to keep the caller's alignment.
constexpr std::size_t kHeader = alignof(std::max_align_t);
static_assert(kHeader >= sizeof(MemoryMeter*));

}  // namespace

MemoryMeter* new_meter(std::size_t budget) {
  static std::mutex mu;
  static std::deque<MemoryMeter> meters;  // never shrinks: blocks may outlive their run
  std::lock_guard lock(mu);
  return &meters.emplace_back(budget);
}

MemoryMeter* current_meter() { return tl_meter; }

MeterScope::MeterScope(MemoryMeter* m) : prev_(tl_meter) { tl_meter = m; }
MeterScope::~MeterScope() { tl_meter = prev_; }

void* metered_allocate(std::size_t bytes) {
  MemoryMeter* m = tl_meter;
  auto* p = static_cast<unsigned char*>(::operator new(bytes + kHeader));
  *reinterpret_cast<MemoryMeter**>(p) = m;
  if (m) m->charge(static_cast<std::int64_t>(bytes + kHeader));
  return p + kHeader;
}

void metered_deallocate(void* q, std::size_t bytes) noexcept {
  if (!q) return;
  auto* p = static_cast<unsigned char*>(q) - kHeader;
  if (MemoryMeter* m = *reinterpret_cast<MemoryMeter**>(p)) m->charge(-static_cast<std::int64_t>(bytes + kHeader));
  ::operator delete(p);
}

namespace {
std::size_t status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  const std::size_t len = std::strlen(field);
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, len, field) == 0) return static_cast<std::size_t>(std::strtoull(line.c_str() + len, nullptr, 10));
  return 0;
}
}  // namespace

std::size_t resident_bytes() { return status_kb("VmRSS:") * 1024; }
std::size_t peak_resident_bytes() { return status_kb("VmHWM:") * 1024; }

std::size_t parse_size(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  std::string unit = end ? std::string(end) : "";
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  double scale = 1;
  if (unit == "k" || unit == "K") scale = 1024.0;
  else if (unit == "m" || unit == "M") scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "G") scale = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty()) scale = -1;
  if (end == text.c_str() || scale < 0 || !std::isfinite(v) || v <= 0 || v * scale > 1e18)
    throw std::invalid_argument("'" + text + "' is not a memory size (examples: 32M, 1.5G, 65536)");
  return static_cast<std::size_t>(v * scale);
}

std::string format_size(std::size_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 100 ? "%.3g %s" : "%.0f %s", v, units[u]);
  return buf;
}

}  // namespace sailir
