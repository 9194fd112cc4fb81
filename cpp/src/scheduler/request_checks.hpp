// The limits on a reduction request, in one place: the command line, the C API and the Python
// module each check their requests here, so a value one surface refuses no other accepts.
#pragma once

#include <string>

#include "laporta/checked_reduction.hpp"
#include "scheduler/learned_reduction.hpp"

namespace sailir {

struct RequestLimits {
  static constexpr int max_threads = 256;
  static constexpr int max_extra = 20;  // --r-extra, --s-extra
  static constexpr int max_beam_width = 4096;
  static constexpr int max_tied_targets = 64;
  static constexpr int max_steps = 100000;  // --max-steps, --patience
  static constexpr int max_retries = 10;
  static constexpr std::size_t min_memory_per_worker = std::size_t{1} << 20;
};

// Throws std::invalid_argument with a one-line message naming the value and its range, e.g.
// "threads must lie between 1 and 256, not 0". `learned` may be null (the Laporta method).
void check_request(const ReductionRequest& req, const LearnedOptions* learned);

// The same message for one integer option, for surfaces that check values as they parse them.
void check_range(const std::string& what, long long value, long long lo, long long hi);

}  // namespace sailir
