// Memory meters: the bytes a worker's reduction state holds, counted exactly as they are
// allocated, so that a budget can be enforced at any integral weight. A thread charges its
// allocations to the meter it has installed (MeterScope); each block remembers its meter, so a
// block freed on another thread (a job value handed to the scheduler) credits the right one.
// Containers opt in with the stateless allocator Metered<T>.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>

namespace sailir {

class MemoryMeter {
 public:
  explicit MemoryMeter(std::size_t budget = 0) : budget_(budget) {}
  std::size_t bytes() const { return static_cast<std::size_t>(bytes_.load(std::memory_order_relaxed)); }
  std::size_t high_water() const { return static_cast<std::size_t>(high_.load(std::memory_order_relaxed)); }
  std::size_t budget() const { return budget_; }  // 0: none
  bool over_budget() const { return budget_ != 0 && bytes() > budget_; }
  bool near_budget(double fraction) const { return budget_ != 0 && bytes() > fraction * double(budget_); }
  // Past 60% of the budget a worker stops keeping what it can recompute, so that what one step
  // adds (its candidates, the table's and the cache's update) still fits below the budget.
  bool pressed() const { return near_budget(0.6); }
  void charge(std::int64_t n) {
    const std::int64_t b = bytes_.fetch_add(n, std::memory_order_relaxed) + n;
    if (b > high_.load(std::memory_order_relaxed)) high_.store(b, std::memory_order_relaxed);
  }
  void reset_high_water() { high_.store(bytes_.load(std::memory_order_relaxed), std::memory_order_relaxed); }

 private:
  std::size_t budget_;
  std::atomic<std::int64_t> bytes_{0}, high_{0};
};

// Meters live as long as the process: a block may outlive the run that charged it (a value
// kept by the caller), and must still find its meter when freed. A handful per run.
MemoryMeter* new_meter(std::size_t budget);

// The meter this thread charges (null: none).
MemoryMeter* current_meter();

// Installs a meter on this thread for the scope's lifetime.
class MeterScope {
 public:
  explicit MeterScope(MemoryMeter* m);
  ~MeterScope();
  MeterScope(const MeterScope&) = delete;
  MeterScope& operator=(const MeterScope&) = delete;

 private:
  MemoryMeter* prev_;
};

void* metered_allocate(std::size_t bytes);
void metered_deallocate(void* p, std::size_t bytes) noexcept;

template <class T>
struct Metered {
  using value_type = T;
  Metered() noexcept = default;
  template <class U>
  Metered(const Metered<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(metered_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { metered_deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const Metered<U>&) const noexcept { return true; }
};

// This process's resident memory now and at its peak (Linux /proc; 0 elsewhere).
std::size_t resident_bytes();
std::size_t peak_resident_bytes();

// "32M", "1.5G", "512k", "1000000" (bytes) -> bytes; throws std::invalid_argument.
std::size_t parse_size(const std::string& text);
// 33554432 -> "32 MB" (binary units, one decimal where needed).
std::string format_size(std::size_t bytes);

}  // namespace sailir
