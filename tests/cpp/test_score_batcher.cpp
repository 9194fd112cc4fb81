// The cross-job batching stage: every request gets exactly the scores a pass of its own would
// give; exclusive passes (the GPU's) combine the requests of workers that arrived meanwhile; the
// CPU mode never combines; a failing pass fails every request it took and leaves the stage usable.
#include <atomic>
#include <chrono>
#include <random>
#include <stdexcept>
#include <thread>

#include "check.hpp"
#include "scheduler/score_batcher.hpp"

using namespace sailir;

namespace {

// Scores that depend on each action's own feature only, as a real policy's do.
void fake_logits(const PolicyBatch& b, std::vector<float>& out) {
  out.resize(b.rows.actions.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (b.rows.actions[i] < 0) throw std::runtime_error("a failing pass");
    out[i] = 2 * b.rows.actions[i] + 1;
  }
}

PolicyBatch request(std::mt19937& rng, int id) {
  PolicyBatch b;
  const int samples = 1 + static_cast<int>(rng() % 3);
  for (int s = 0; s < samples; ++s) {
    const int actions = static_cast<int>(rng() % 5);
    for (int a = 0; a < actions; ++a) b.rows.actions.push_back(static_cast<float>(id * 100 + s * 10 + a));
    b.terms.push_back(0);
    b.table.push_back(0);
    b.actions.push_back(actions);
  }
  return b;
}

ScoreBatchStats hammer(bool exclusive, int threads, int each) {
  std::atomic<int> wrong{0};
  ScoreBatcher stage(
      [](const PolicyBatch& b, std::vector<float>& out) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a pass takes a while
        fake_logits(b, out);
      },
      exclusive);
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        std::mt19937 rng(t);
        for (int i = 0; i < each; ++i) {
          const PolicyBatch b = request(rng, t * each + i);
          std::vector<float> got, want;
          stage.logits(b, got);
          fake_logits(b, want);
          if (got != want) ++wrong;
        }
      });
  }
  CHECK(wrong == 0);
  return stage.stats();
}

}  // namespace

int main() {
  const ScoreBatchStats gpu = hammer(true, 6, 30);
  CHECK(gpu.requests == 180 && gpu.passes < gpu.requests && gpu.largest > 1 && gpu.largest <= 6);
  std::printf("exclusive: %zu requests in %zu passes, largest %zu\n", gpu.requests, gpu.passes, gpu.largest);
  const ScoreBatchStats cpu = hammer(false, 4, 30);
  CHECK(cpu.requests == 120 && cpu.passes == cpu.requests && cpu.largest == 1);

  // A failing pass: its requests fail, and the stage goes on.
  ScoreBatcher stage(fake_logits, true);
  PolicyBatch bad;
  bad.rows.actions = {-1.f};
  bad.terms = {0};
  bad.table = {0};
  bad.actions = {1};
  std::vector<float> out;
  CHECK_THROWS(stage.logits(bad, out));
  std::mt19937 rng(9);
  const PolicyBatch good = request(rng, 3);
  std::vector<float> want;
  stage.logits(good, out);
  fake_logits(good, want);
  CHECK(out == want);
  TEST_MAIN_END();
}
