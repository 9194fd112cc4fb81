#include "scheduler/score_batcher.hpp"

#include <algorithm>

namespace sailir {

void ScoreBatcher::logits(const PolicyBatch& batch, std::vector<float>& out) {
  Request me{&batch, &out, false, nullptr};
  std::unique_lock lock(mu_);
  pending_.push_back(&me);
  // Exclusive: wait while a pass runs; it may have taken this request, else this worker leads.
  if (exclusive_) done_cv_.wait(lock, [&] { return me.done || !busy_; });
  if (me.done) {
    if (me.error) std::rethrow_exception(me.error);
    return;
  }
  std::vector<Request*> taken;
  taken.swap(pending_);
  busy_ = true;
  ++stats_.passes;
  stats_.requests += taken.size();
  stats_.largest = std::max(stats_.largest, taken.size());
  lock.unlock();
  std::exception_ptr failure;
  try {
    score(taken);
  } catch (...) {
    failure = std::current_exception();
  }
  lock.lock();
  busy_ = false;
  for (Request* r : taken) {
    r->done = true;
    r->error = failure;  // every worker of a failed pass hears of it
  }
  done_cv_.notify_all();
  lock.unlock();
  if (failure) std::rethrow_exception(failure);
}

// One forward pass over the requests' samples, in order; each gets its own scores back.
void ScoreBatcher::score(std::vector<Request*>& taken) {
  if (taken.size() == 1) return logits_(*taken[0]->batch, *taken[0]->out);
  PolicyBatch all;
  for (Request* r : taken) all.append(*r->batch);
  std::vector<float> scores;
  logits_(all, scores);
  std::size_t at = 0;
  for (Request* r : taken) {
    std::size_t n = 0;
    for (int a : r->batch->actions) n += static_cast<std::size_t>(a);
    r->out->assign(scores.begin() + static_cast<std::ptrdiff_t>(at), scores.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  }
}

ScoreBatchStats ScoreBatcher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace sailir
