// The cross-job batching stage for policy scores: workers submit the batch of their beam step,
// and whoever finds requests waiting scores all of them in one forward pass (flat combining),
// then hands each its part. On a GPU the stage is exclusive: one pass at a time, and a worker that
// arrives during a pass waits for it and joins the next, so passes grow with the workers. On the
// CPU a pass costs in proportion to its samples, so waiting would only add latency: each worker
// scores its own step at once, and the stage only counts.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <vector>

#include "policy/policy.hpp"

namespace sailir {

struct ScoreBatchStats {
  std::size_t passes = 0;    // forward passes
  std::size_t requests = 0;  // beam steps scored
  std::size_t largest = 0;   // requests in the largest pass
};

class ScoreBatcher {
 public:
  using Logits = std::function<void(const PolicyBatch&, std::vector<float>&)>;
  ScoreBatcher(Logits logits, bool exclusive) : logits_(std::move(logits)), exclusive_(exclusive) {}

  // Raw scores of `batch` (as Policy::logits), possibly computed together with other workers'.
  void logits(const PolicyBatch& batch, std::vector<float>& out);
  ScoreBatchStats stats() const;

 private:
  struct Request {
    const PolicyBatch* batch;
    std::vector<float>* out;
    bool done = false;
    std::exception_ptr error;  // the pass that took it failed
  };
  void score(std::vector<Request*>& taken);

  Logits logits_;
  bool exclusive_;
  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::vector<Request*> pending_;
  bool busy_ = false;
  ScoreBatchStats stats_;
};

}  // namespace sailir
