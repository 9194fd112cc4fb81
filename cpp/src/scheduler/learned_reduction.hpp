// Reduction with a learned policy: one-step jobs solved by beam search, scheduled over worker
// threads with a memo cache (a worker's next job of the same sector continues its last job's
// table), substituted into the targets until only masters remain; failed jobs are retried with
// wider seed regions and, as a last resort, reduced by Laporta (counted). The finished
// path is replayed at a second prime to catch accidental zeros, and optionally compared with the
// Laporta reducer at the same prime and point.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "laporta/checked_reduction.hpp"
#include "policy/policy.hpp"
#include "scheduler/reduction_path.hpp"
#include "device/device.hpp"
#include "search/beam_search.hpp"

namespace sailir {

struct LearnedProgress {
  std::size_t jobs_done = 0, jobs_pending = 0, jobs_running = 0, memo_hits = 0, fallbacks = 0;
  std::size_t remaining = 0;  // non-masters left in the targets' expressions
  std::string phase;          // "search", "replay", "verify", or a line to show ("memory: ...")
};

// 96 MB: the pentagon-box's r = 10 jobs need more than 32 MB afresh (32 MB made 8 of them fail
// and fall back to Laporta); the triangle-box's largest job peaks at 23 MB.
inline constexpr std::size_t kDefaultMemoryPerWorker = std::size_t{96} << 20;
inline constexpr std::size_t kDefaultMemoMemory = std::size_t{32} << 20;

struct LearnedOptions {
  BeamOptions beam;
  int retries = 2;        // a failed job is retried this often: with 4x max_steps after the step limit,
                          // else with seeds one larger in r and s
  bool fallback = true;   // then reduced by the Laporta reducer (counted in the stats)
  bool verify = false;    // compare every coefficient with the Laporta reducer (same prime and point)
  // Bytes a worker's reduction state may hold (0: no budget). At the budget a worker streams
  // candidates instead of caching resolutions, then drops what it carries between jobs; a job
  // whose own table exceeds it fails (and follows the retry rules).
  std::size_t memory_per_worker = kDefaultMemoryPerWorker;
  // Bytes of job values (and the targets' pending expressions) kept in memory; beyond it values
  // go to the checkpoint store, or to a temporary one, and are read back when needed.
  std::size_t memo_memory = kDefaultMemoMemory;
  // A directory: finished jobs are recorded there as they finish, and a rerun with the same
  // directory resumes (empty: none). A directory made for another problem is refused.
  std::string checkpoint;
  // Set (by a signal handler, say) to stop: the run throws Interrupted; jobs in flight are
  // abandoned, finished ones are already in the checkpoint.
  const std::atomic<bool>* stop = nullptr;
  std::function<void(const LearnedProgress&)> progress;  // may be empty; called from one thread
  // Where the policy scores beam steps: cuda scores every worker's steps on the GPU, one pass
  // for all that wait (scheduler/score_batcher.hpp); auto and cpu score on the CPU, where a
  // width-1 step (one sample) is too small to pay for a GPU pass.
  Device policy_device = Device::cpu;
};

struct LearnedStats {
  std::size_t jobs = 0, memo_hits = 0, failed_jobs = 0, retries = 0, fallbacks = 0;
  std::size_t beam_steps = 0, policy_calls = 0, states_expanded = 0, path_steps = 0;
  double search_seconds = 0, replay_seconds = 0, verify_seconds = 0;
  // Memory: the largest worker high-water mark and the memo's (job values held for the
  // substitution, and the targets' pending expressions); steps taken streaming at the budget,
  // and jobs failed by it.
  std::size_t worker_peak_bytes = 0, memo_peak_bytes = 0, streamed_steps = 0, memory_failures = 0;
  std::size_t resumed_jobs = 0, spilled_values = 0;  // jobs taken from the checkpoint; values sent to disk
  std::size_t predicted_peak_bytes = 0;  // base + threads x budget + memo budget (0: no budget)
  std::size_t search_peak_bytes = 0;     // the process's peak resident memory when the search ended
  // The batching stage: forward passes, and the most beam steps one pass scored.
  std::size_t policy_passes = 0, policy_batch_max = 0;
};

struct LearnedResult {
  ReductionResult result;  // masters, targets, coefficients, warnings, check prime
  LearnedStats stats;
  ReductionPath path;
  bool verified = false;   // true when verification ran and every coefficient agreed
  std::string verify_error;  // the first disagreement with the Laporta reducer
};

struct ReplayResult {
  ReductionResult result;
  double seconds = 0;
};

// A run stopped by LearnedOptions::stop; the message says what was kept and how to resume.
struct Interrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A replay that cannot be completed: a step whose identity lost its target, or an integral the
// path never reduced (both mean that some coefficient vanished at one of the primes).
struct VerificationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reduces request.targets with `policy` (checked against the family here: PolicyMismatchError).
// request.check replays the path at a second prime (disagreements become warnings);
// request.threads worker threads run jobs. Throws UnreducedError when a job can be neither solved
// nor handed to Laporta. A Laporta comparison that disagrees sets verified = false.
LearnedResult reduce_learned(const FamilyDef& family, const ReductionRequest& request, const Policy& policy,
                             const LearnedOptions& options);

// The result as the writers print it: coefficients plus the learned figures as method stats, and
// `verified` when the Laporta comparison ran.
ReductionResult learned_output(const LearnedResult& learned, bool verify_requested);

// Recomputes a finished path at another prime or point, without a policy. Throws
// VerificationError when the path does not go through there.
ReplayResult replay_path(const FamilyDef& family, const NumericPoint& point, u64 prime, const ReductionPath& path,
                         int threads);

}  // namespace sailir
