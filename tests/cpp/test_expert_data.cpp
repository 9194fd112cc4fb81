// Expert data: every job of a learned path, searched again from the state the path carried, with
// the path's own settings, finds exactly the path's steps; the samples' labels are candidates of
// their states.
#include "check.hpp"
#include "engine/engine.hpp"
#include "training/expert_data.hpp"

using namespace sailir;

int main() {
  const Engine engine = Engine::load("trianglebox");
  const FamilyDef& family = engine.family();
  FamilyContext ctx(family, resolve_point(family, ""), kDefaultPrime, family.masters);
  EngineOptions o;
  o.method = "learned";
  o.check = false;
  o.threads = 1;
  o.symmetries = false;
  EngineResult res = engine.reduce({"I[1,1,2,1,1,1,-2]"}, o);
  CHECK(res.path.has_value());
  const Policy policy = Policy::builtin("trianglebox");
  const std::vector<JobSearch> same = {JobSearch{&policy, LearnedOptions{}.beam}};
  ExpertStats st;
  ScrambleBatch b = path_samples(ctx, {*res.path}, same, LearnedOptions{}.beam, 1u << 30, st);
  std::size_t own = 0;
  for (const PathJob& j : res.path->jobs) own += j.steps.size();
  CHECK(st.jobs > 0);
  CHECK(st.rollout_failures[1] == std::size_t{0});
  CHECK(st.rollout_steps[0] == own);
  CHECK(st.rollout_steps[1] == own);
  CHECK(st.samples == own);
  CHECK(b.label.size() == own);
  std::size_t row = 0;
  for (std::size_t i = 0; i < b.label.size(); ++i) {
    CHECK(b.label[i] >= 0 && b.label[i] < b.n_actions[i]);
    CHECK(b.features.ops[row + static_cast<std::size_t>(b.label[i])] == b.label_op[i]);
    row += static_cast<std::size_t>(b.n_actions[i]);
  }
  TEST_MAIN_END();
}
