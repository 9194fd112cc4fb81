// Concurrency stress of the learned reduction's scheduler: many workers on a few targets, with a
// budget tight enough that workers stream and drop their carried tables, a memo small enough to
// overflow to disk, and a checkpoint written from every worker, stopped midway and resumed. Every run must give
// the Laporta reducer's coefficients. Built with -fsanitize=thread (the tsan preset), it checks
// the scheduler's locking.
#include <atomic>
#include <filesystem>

#include "check.hpp"
#include "family/family_source.hpp"
#include "laporta/laporta.hpp"
#include "scheduler/job_store.hpp"
#include "scheduler/learned_reduction.hpp"

using namespace sailir;

int main() {
  FamilyDef family = load_family("trianglebox");
  const int n = family.n;
  Policy policy = Policy::builtin("trianglebox");
  ReductionRequest req;
  req.point = resolve_point(family, "");
  req.preferred = family.masters;
  for (const char* x : {"I[1,1,2,1,1,1,-4]", "I[2,1,1,1,1,2,-3]", "I[1,1,1,1,1,1,-3]", "I[1,2,1,1,1,1,-2]"})
    req.targets.push_back(parse_integral(x, n));
  req.check = true;
  LaportaReducer laporta(family, req.point, req.prime, req.preferred);
  const auto expected = laporta.reduce(req.targets, req.options);

  TemporaryDirectory tmp("sailir-stress");
  auto options = [&](const char* checkpoint) {
    LearnedOptions opt;
    opt.memory_per_worker = std::size_t{1} << 20;  // the smallest budget: streaming and drops
    opt.beam.ranking = BeamRanking::both;  // the weight ranking streams most (every step is weighed)
    opt.memo_memory = std::size_t{64} << 10;       // overflows to the store
    opt.checkpoint = (std::filesystem::path(tmp.path()) / checkpoint).string();
    return opt;
  };
  // A whole run on 4 workers.
  req.threads = 4;
  LearnedResult r = reduce_learned(family, req, policy, options("a"));
  CHECK(r.result.coefficients == expected && r.result.warnings.empty());
  CHECK(r.stats.fallbacks == 0 && r.stats.streamed_steps > 0 && r.stats.spilled_values > 0);
  // A run on 6 workers stopped midway from another thread, then resumed on 8.
  req.threads = 6;
  std::atomic<bool> stop{false};
  LearnedOptions stopped = options("b");
  stopped.stop = &stop;
  stopped.progress = [&](const LearnedProgress& p) {  // called from the waiting thread
    if (p.jobs_done >= 100) stop = true;
  };
  CHECK_THROWS(reduce_learned(family, req, policy, stopped));
  req.threads = 8;
  r = reduce_learned(family, req, policy, options("b"));
  CHECK(r.result.coefficients == expected && r.result.warnings.empty());
  CHECK(r.stats.resumed_jobs > 0 && r.stats.jobs > 0 && r.stats.fallbacks == 0);
  TEST_MAIN_END();
}
