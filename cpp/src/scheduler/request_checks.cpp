#include "scheduler/request_checks.hpp"

#include <stdexcept>

namespace sailir {

void check_range(const std::string& what, long long value, long long lo, long long hi) {
  if (value < lo || value > hi)
    throw std::invalid_argument(what + " must lie between " + std::to_string(lo) + " and " + std::to_string(hi) +
                                ", not " + std::to_string(value));
}

void check_request(const ReductionRequest& req, const LearnedOptions* learned) {
  using L = RequestLimits;
  check_range("threads", req.threads, 1, L::max_threads);
  check_range("r_extra", req.options.r_extra, 0, L::max_extra);
  check_range("s_extra", req.options.s_extra, 0, L::max_extra);
  if (!learned) return;
  check_range("beam width", learned->beam.width, 1, L::max_beam_width);
  check_range("tied targets", learned->beam.tied_targets, 1, L::max_tied_targets);
  check_range("max steps", learned->beam.max_steps, 1, L::max_steps);
  check_range("patience", learned->beam.patience, 0, L::max_steps);
  check_range("retries", learned->retries, 0, L::max_retries);
  if (learned->memory_per_worker != 0 && learned->memory_per_worker < L::min_memory_per_worker)
    throw std::invalid_argument("a memory budget of " + format_size(learned->memory_per_worker) +
                                " per worker is too small for any job: at least " +
                                format_size(L::min_memory_per_worker));
}

}  // namespace sailir
