// The ablation policies through the C API (sailir.h, sailir.hpp): "uniform" loads by name,
// "random" only with a seed (sailir_policy_random), and reductions with either give the
// Laporta reducer's coefficients.
#include <cstring>
#include <string>
#include <vector>

#include "check.hpp"
#include "sailir.h"
#include "sailir.hpp"

namespace {

const char* kIntegral = "I[1,1,1,1,1,1,0]";

// Every coefficient of the one target, by master index.
std::vector<uint64_t> coefficients(const sailir_result* r) {
  std::vector<uint64_t> out;
  for (size_t m = 0; m < sailir_result_master_count(r); ++m) out.push_back(sailir_result_coefficient(r, 0, m));
  return out;
}

std::vector<uint64_t> reduce_with(const sailir_family* f, const sailir_policy* p, sailir_method method) {
  sailir_options o = sailir_default_options();
  o.method = method;
  o.threads = 1;
  sailir_result* r = sailir_reduce(f, p, &kIntegral, 1, &o);
  CHECK(r != nullptr);
  if (!r) return {};
  std::vector<uint64_t> out = coefficients(r);
  sailir_result_free(r);
  return out;
}

}  // namespace

int main() {
  sailir_family* f = sailir_family_load("trianglebox", nullptr, 0, nullptr);
  CHECK(f != nullptr);
  const std::vector<uint64_t> want = reduce_with(f, nullptr, SAILIR_METHOD_LAPORTA);
  CHECK(!want.empty());

  sailir_policy* uniform = sailir_policy_load(f, "uniform");
  CHECK(uniform != nullptr);
  CHECK(reduce_with(f, uniform, SAILIR_METHOD_LEARNED) == want);
  sailir_policy_free(uniform);

  sailir_policy* unseeded = sailir_policy_load(f, "random");
  const char* msg = sailir_last_error();
  CHECK(unseeded == nullptr && sailir_last_error_kind() == SAILIR_ERROR_BAD_INPUT);
  CHECK(std::strstr(msg, "sailir_policy_random") != nullptr && std::strchr(msg, '\n') == nullptr);
  CHECK(sailir_policy_random(nullptr, 1) == nullptr && sailir_last_error_kind() == SAILIR_ERROR_BAD_INPUT);

  sailir_policy* random = sailir_policy_random(f, 42);
  CHECK(random != nullptr);
  CHECK(reduce_with(f, random, SAILIR_METHOD_LEARNED) == want);
  sailir_policy_free(random);

  // The C++ wrapper.
  sailir::api::Family family("trianglebox");
  sailir::api::Policy seeded = sailir::api::Policy::random(family, 3);
  CHECK(seeded.get() != nullptr);
  sailir_family_free(f);
  TEST_MAIN_END();
}
