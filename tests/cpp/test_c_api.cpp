// The embedding API (sailir.h, sailir.hpp) as an embedder sees it: only the public headers and
// libsailir. Results against closed forms, readers, shared handles across threads, and every
// error path: NULL plus the right kind and a one-line message, never an exception.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"
#include "sailir.h"
#include "sailir.hpp"

namespace {

using u128 = unsigned __int128;

uint64_t mulmod(uint64_t a, uint64_t b, uint64_t p) { return static_cast<uint64_t>(static_cast<u128>(a) * b % p); }
uint64_t powmod(uint64_t a, uint64_t e, uint64_t p) {
  uint64_t r = 1;
  for (; e; e >>= 1, a = mulmod(a, a, p))
    if (e & 1) r = mulmod(r, a, p);
  return r;
}
uint64_t divmod(uint64_t a, uint64_t b, uint64_t p) { return mulmod(a % p, powmod(b % p, p - 2, p), p); }

// Tadpole: I(a+1) = (d - 2a) / (2 a msq) I(a), so I(3) = (d-2)(d-4) / (8 msq^2) I(1).
uint64_t tadpole_i3(uint64_t d, uint64_t msq, uint64_t p) {
  return divmod(mulmod(d - 2, d - 4, p), mulmod(8, mulmod(msq, msq, p), p), p);
}

bool one_line(const char* s) { return s && *s && !std::strchr(s, '\n') && !std::strchr(s, '\r'); }

// A failed call: NULL, the expected kind, a one-line message containing `needle`.
bool failed_with(const void* handle, sailir_error_kind kind, const char* needle) {
  const char* msg = sailir_last_error();
  bool ok = handle == nullptr && sailir_last_error_kind() == kind && one_line(msg) && std::strstr(msg, needle);
  if (!ok)
    std::fprintf(stderr, "expected NULL, kind %s and a message with '%s'; got %s, kind %s: %s\n",
                 sailir_error_kind_name(kind), needle, handle ? "a handle" : "NULL",
                 sailir_error_kind_name(sailir_last_error_kind()), msg);
  return ok;
}

void test_tadpole_closed_form() {
  sailir_family* f = sailir_family_load("tadpole", "d=41,msq=7", 0, nullptr);
  CHECK(f != nullptr);
  CHECK(sailir_last_error_kind() == SAILIR_OK && std::strcmp(sailir_last_error(), "") == 0);
  CHECK(std::strcmp(sailir_family_name(f), "tadpole") == 0);
  CHECK(sailir_family_propagators(f) == 1);
  CHECK(sailir_family_prime(f) == 9223372036854775783ULL);
  CHECK(std::strlen(sailir_family_hash(f)) == 64);
  CHECK(std::string(sailir_family_point(f)).find("msq=7") != std::string::npos);

  const char* integrals[] = {"I[3]", " I[ 1 ] ", "I[-2]"};
  sailir_result* r = sailir_reduce(f, nullptr, integrals, 3, nullptr);
  CHECK(r != nullptr);
  const uint64_t p = sailir_result_prime(r);
  CHECK(p == 9223372036854775783ULL);
  CHECK(sailir_result_check_prime(r) != 0 && sailir_result_check_prime(r) != p);
  CHECK(sailir_result_master_count(r) == 1 && std::strcmp(sailir_result_master(r, 0), "I[1]") == 0);
  CHECK(sailir_result_master(r, 1) == nullptr);
  CHECK(sailir_result_target_count(r) == 3);
  CHECK(std::strcmp(sailir_result_target(r, 1), "I[1]") == 0);  // written canonically
  CHECK(sailir_result_coefficient(r, 0, 0) == tadpole_i3(41, 7, p));
  CHECK(sailir_result_coefficient(r, 1, 0) == 1);
  CHECK(sailir_result_term_count(r, 2) == 0 && sailir_result_coefficient(r, 2, 0) == 0);  // scaleless
  size_t m = 99;
  uint64_t c = 0;
  CHECK(sailir_result_term(r, 0, 0, &m, &c) == 0 && m == 0 && c == tadpole_i3(41, 7, p));
  CHECK(sailir_result_term(r, 0, 1, &m, &c) != 0 && sailir_result_term(r, 5, 0, &m, &c) != 0);
  CHECK(sailir_result_coefficient(r, 7, 0) == 0 && sailir_result_coefficient(r, 0, 7) == 0);
  sailir_stats st = sailir_result_stats(r);
  CHECK(st.equations > 0 && st.seconds >= 0 && st.jobs == 0 && st.fallbacks == 0);

  // The same family from its compiled file.
  sailir_family* g = sailir_family_load("python/sailir/data/families/tadpole.sfam", nullptr, 0, nullptr);
  CHECK(g && std::strcmp(sailir_family_name(g), "tadpole") == 0);
  CHECK(g && std::strcmp(sailir_family_hash(g), sailir_family_hash(f)) == 0);
  sailir_family_free(g);
  sailir_result_free(r);
  sailir_family_free(f);

  // Another prime, given explicitly; options without the check.
  f = sailir_family_load("tadpole", "msq=7", 65537, nullptr);
  CHECK(f != nullptr && sailir_family_prime(f) == 65537);
  sailir_options o = sailir_default_options();
  o.check = 0;
  r = sailir_reduce(f, nullptr, integrals, 1, &o);
  CHECK(r && sailir_result_prime(r) == 65537 && sailir_result_check_prime(r) == 0);
  CHECK(r && sailir_result_coefficient(r, 0, 0) == tadpole_i3(41, 7, 65537));
  sailir_result_free(r);
  sailir_family_free(f);
}

// Families are immutable: one handle reduces in several threads at once.
void test_shared_family() {
  sailir_family* f = sailir_family_load("tadpole", nullptr, 0, nullptr);
  CHECK(f != nullptr);
  std::vector<uint64_t> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      const char* x[] = {"I[3]"};
      sailir_result* r = sailir_reduce(f, nullptr, x, 1, nullptr);
      got[i] = r ? sailir_result_coefficient(r, 0, 0) : 0;
      sailir_result_free(r);
    });
  for (auto& t : threads) t.join();
  for (uint64_t g : got) CHECK(g != 0 && g == got[0]);
  sailir_family_free(f);
}

// A preferred basis from a file: I[1] = 2 msq / (d - 2) I[2].
void test_masters_file() {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("sailir_test_c_api_masters_" + std::to_string(::getpid()) + ".txt"))
          .string();
  {
    std::ofstream out(path);
    out << "# the tadpole's master\n  I[2]\n";
  }
  sailir_family* f = sailir_family_load("tadpole", "d=41,msq=7", 0, path.c_str());
  CHECK(f != nullptr);
  const char* x[] = {"I[1]"};
  sailir_result* r = sailir_reduce(f, nullptr, x, 1, nullptr);
  CHECK(r && std::strcmp(sailir_result_master(r, 0), "I[2]") == 0);
  CHECK(r && sailir_result_coefficient(r, 0, 0) == divmod(14, 39, sailir_result_prime(r)));
  sailir_result_free(r);
  sailir_family_free(f);
  std::remove(path.c_str());
}

// The learned method with the shipped policy gives Laporta's coefficients (cheap integrals: two
// jobs, and a master).
void test_learned() {
  sailir_family* tb = sailir_family_load("trianglebox", nullptr, 0, nullptr);
  sailir_policy* policy = sailir_policy_load(tb, nullptr);
  CHECK(tb && policy);
  const char* x[] = {"I[1,0,1,0,1,1,-1]", "I[1,0,1,1,1,0,0]"};
  sailir_options o = sailir_default_options();
  o.method = SAILIR_METHOD_LEARNED;
  o.verify = 1;
  sailir_result* learned = sailir_reduce(tb, policy, x, 2, &o);
  if (!learned) std::fprintf(stderr, "learned: %s\n", sailir_last_error());
  sailir_result* laporta = sailir_reduce(tb, policy, x, 2, nullptr);  // the policy is ignored
  CHECK(learned && laporta);
  size_t nm = 0;
  if (learned && laporta) {
    CHECK(sailir_result_prime(learned) == sailir_result_prime(laporta));
    // With sector symmetries the triangle-box basis has 15 masters (I[1,0,1,0,0,1,0] maps onto
    // I[0,1,1,1,0,0,0]); both methods end on the same basis.
    nm = sailir_result_master_count(laporta);
    CHECK(nm == 15 && sailir_result_master_count(learned) == nm);
    for (size_t m = 0; m < nm; ++m)
      CHECK(std::strcmp(sailir_result_master(learned, m), sailir_result_master(laporta, m)) == 0);
    for (size_t t = 0; t < 2; ++t) {
      CHECK(sailir_result_term_count(learned, t) == sailir_result_term_count(laporta, t));
      for (size_t m = 0; m < nm; ++m)
        CHECK(sailir_result_coefficient(learned, t, m) == sailir_result_coefficient(laporta, t, m));
    }
    CHECK(sailir_result_term_count(learned, 0) > 1 && sailir_result_term_count(learned, 1) == 1);
    sailir_stats st = sailir_result_stats(learned);
    CHECK(st.jobs >= 1 && st.fallbacks == 0 && st.verified == 1);
    CHECK(sailir_result_stats(laporta).jobs == 0 && sailir_result_stats(laporta).verified == 0);
  }
  std::vector<uint64_t> expect(nm);
  for (size_t m = 0; m < nm; ++m) expect[m] = laporta ? sailir_result_coefficient(laporta, 0, m) : 0;
  sailir_result_free(learned);
  sailir_result_free(laporta);

  namespace api = sailir::api;
  api::Family family("trianglebox");
  api::Policy shipped(family);
  api::Result r = api::reduce(family, shipped, {"I[1,0,1,0,1,1,-1]"});
  CHECK(r.master_count() == nm && r.stats().jobs >= 1);
  for (size_t m = 0; m < nm; ++m) CHECK(r.coefficient(0, m) == expect[m]);
  sailir_policy_free(policy);
  sailir_family_free(tb);
}

void test_errors() {
  // Unknown family, a modulus that is not prime, a malformed point, a missing masters file.
  CHECK(failed_with(sailir_family_load("nosuchfamily", nullptr, 0, nullptr), SAILIR_ERROR_BAD_INPUT, "nosuchfamily"));
  CHECK(failed_with(sailir_family_load(nullptr, nullptr, 0, nullptr), SAILIR_ERROR_BAD_INPUT, "family"));
  CHECK(failed_with(sailir_family_load("trianglebox", nullptr, 1000000, nullptr), SAILIR_ERROR_BAD_INPUT, "prime"));
  CHECK(failed_with(sailir_family_load("trianglebox", nullptr, 65521 * 65537ULL, nullptr), SAILIR_ERROR_BAD_INPUT,
                    "prime"));
  CHECK(failed_with(sailir_family_load("trianglebox", "d=41,zz=3", 0, nullptr), SAILIR_ERROR_BAD_INPUT, "zz"));
  CHECK(failed_with(sailir_family_load("tadpole", nullptr, 0, "/nonexistent/masters.txt"), SAILIR_ERROR_BAD_INPUT,
                    "masters"));

  sailir_family* tb = sailir_family_load("trianglebox", nullptr, 0, nullptr);
  CHECK(tb != nullptr && sailir_last_error_kind() == SAILIR_OK);  // success clears the error
  CHECK(sailir_family_propagators(tb) == 7);
  CHECK(std::strcmp(sailir_family_point(tb), "d=41,m1=1,m2=31,m3=47") == 0);

  // An integral of the wrong length, a malformed one, a NULL array.
  const char* short_one[] = {"I[1,1,1]"};
  CHECK(failed_with(sailir_reduce(tb, nullptr, short_one, 1, nullptr), SAILIR_ERROR_BAD_INPUT, "I[1,1,1]"));
  const char* junk[] = {"I[1,1,1,1,1,1,0]", "J[x]"};
  CHECK(failed_with(sailir_reduce(tb, nullptr, junk, 2, nullptr), SAILIR_ERROR_BAD_INPUT, "J[x]"));
  const char* with_null[] = {nullptr};
  CHECK(failed_with(sailir_reduce(tb, nullptr, with_null, 1, nullptr), SAILIR_ERROR_BAD_INPUT, "NULL"));
  CHECK(failed_with(sailir_reduce(tb, nullptr, nullptr, 1, nullptr), SAILIR_ERROR_BAD_INPUT, "NULL"));
  CHECK(failed_with(sailir_reduce(nullptr, nullptr, short_one, 1, nullptr), SAILIR_ERROR_BAD_INPUT, "family"));

  // The learned method without a policy; options out of range.
  const char* ok_one[] = {"I[1,1,1,1,1,1,0]"};
  sailir_options o = sailir_default_options();
  o.method = SAILIR_METHOD_LEARNED;
  CHECK(failed_with(sailir_reduce(tb, nullptr, ok_one, 1, &o), SAILIR_ERROR_BAD_INPUT, "policy"));
  o = sailir_default_options();
  o.threads = 0;
  CHECK(failed_with(sailir_reduce(tb, nullptr, ok_one, 1, &o), SAILIR_ERROR_BAD_INPUT, "threads"));
  o = sailir_default_options();
  const int seven = 7;  // what a C caller may store; a C++ enum cannot hold it
  static_assert(sizeof o.method == sizeof seven);
  std::memcpy(&o.method, &seven, sizeof seven);
  CHECK(failed_with(sailir_reduce(tb, nullptr, ok_one, 1, &o), SAILIR_ERROR_BAD_INPUT, "method"));
  CHECK(failed_with(sailir_policy_load(nullptr, nullptr), SAILIR_ERROR_BAD_INPUT, "family"));

  // Policies: a missing file, a family without a shipped policy, a policy of another family (at
  // load and at reduction).
  CHECK(failed_with(sailir_policy_load(tb, "/nonexistent/policy.onnx"), SAILIR_ERROR_BAD_POLICY_FILE,
                    "/nonexistent/policy.onnx"));
  sailir_family* bubble = sailir_family_load("bubble", nullptr, 0, nullptr);
  CHECK(bubble != nullptr);
  CHECK(failed_with(sailir_policy_load(bubble, nullptr), SAILIR_ERROR_BAD_POLICY_FILE, "bubble"));
  CHECK(failed_with(sailir_policy_load(bubble, "python/sailir/data/policies/trianglebox.onnx"),
                    SAILIR_ERROR_POLICY_MISMATCH, "trianglebox"));
  sailir_policy* policy = sailir_policy_load(tb, nullptr);
  CHECK(policy != nullptr && sailir_last_error_kind() == SAILIR_OK);
  const char* bubble_one[] = {"I[1,1]"};
  CHECK(failed_with(sailir_reduce(bubble, policy, bubble_one, 1, &o), SAILIR_ERROR_BAD_INPUT, "method"));
  o = sailir_default_options();
  o.method = SAILIR_METHOD_LEARNED;
  CHECK(failed_with(sailir_reduce(bubble, policy, bubble_one, 1, &o), SAILIR_ERROR_POLICY_MISMATCH, "bubble"));
  o.beam_width = 0;
  CHECK(failed_with(sailir_reduce(tb, policy, ok_one, 1, &o), SAILIR_ERROR_BAD_INPUT, "beam"));
  sailir_policy_free(policy);
  sailir_family_free(bubble);
  sailir_family_free(tb);

  // A degenerate point is refused when reducing.
  sailir_family* d4 = sailir_family_load("trianglebox", "d=4", 0, nullptr);
  CHECK(d4 != nullptr);
  CHECK(failed_with(sailir_reduce(d4, nullptr, ok_one, 1, nullptr), SAILIR_ERROR_BAD_INPUT, "degenerate"));
  sailir_family_free(d4);

  // Errors are per thread: another thread's failure leaves this thread's state alone.
  CHECK(sailir_last_error_kind() == SAILIR_ERROR_BAD_INPUT);
  std::thread([] { sailir_family_free(sailir_family_load("tadpole", nullptr, 0, nullptr)); }).join();
  std::string mine = sailir_last_error();
  CHECK(mine.find("degenerate") != std::string::npos);
  sailir_error_kind other = SAILIR_OK;
  std::thread([&] { other = sailir_last_error_kind(); }).join();
  CHECK(other == SAILIR_OK);

  CHECK(std::strcmp(sailir_error_kind_name(SAILIR_ERROR_POLICY_MISMATCH), "policy mismatch") == 0);
  CHECK(std::strcmp(sailir_version(), "") != 0);
  // Readers and frees accept NULL.
  CHECK(sailir_result_master_count(nullptr) == 0 && sailir_family_name(nullptr) == nullptr);
  sailir_family_free(nullptr);
  sailir_policy_free(nullptr);
  sailir_result_free(nullptr);
}

void test_cpp_wrapper() {
  namespace api = sailir::api;
  api::Family f("tadpole", "d=41,msq=7");
  api::Result r = api::reduce(f, {"I[3]", "I[1]"});
  CHECK(r.masters() == std::vector<std::string>{"I[1]"});
  CHECK(r.target(0) == "I[3]" && r.coefficient(0, 0) == tadpole_i3(41, 7, r.prime()));
  CHECK(r.terms(0).size() == 1 && r.terms(0)[0].first == 0 && r.terms(0)[0].second == tadpole_i3(41, 7, r.prime()));
  CHECK(r.warnings().empty());
  bool thrown = false;
  try {
    api::Family bad("nosuchfamily");
  } catch (const api::Error& e) {
    thrown = e.kind() == api::ErrorKind::bad_input && one_line(e.what());
  }
  CHECK(thrown);
  thrown = false;
  try {
    api::reduce(f, {"I[1,2]"});
  } catch (const api::Error& e) {
    thrown = e.kind() == api::ErrorKind::bad_input && std::string(e.kind_name()) == "bad input";
  }
  CHECK(thrown);
  thrown = false;
  try {
    api::reduce(f, {"I[2]"}, api::Options::learned());
  } catch (const api::Error& e) {
    thrown = e.kind() == api::ErrorKind::bad_input;
  }
  CHECK(thrown);
}

// A recording saved by sailir-reduce (argv[1]), replayed through the C API at points of our own:
// the tadpole's closed form at every probe, errors for bad arguments and foreign files.
void test_recording(const char* reduce) {
  const std::string path = (std::filesystem::temp_directory_path() / ("sailir_c_api_" + std::to_string(getpid()) + ".rec")).string();
  const std::string cmd = std::string(reduce) + " --quiet --family tadpole --save-path " + path + " 'I[3]' > /dev/null";
  CHECK(std::system(cmd.c_str()) == 0);
  sailir_family* f = sailir_family_load("tadpole", nullptr, 0, nullptr);
  sailir_recording* rec = sailir_recording_load(f, path.c_str());
  CHECK(rec != nullptr);
  CHECK(sailir_recording_master_count(rec) == 1 && std::strcmp(sailir_recording_master(rec, 0), "I[1]") == 0);
  CHECK(sailir_recording_target_count(rec) == 1 && std::strcmp(sailir_recording_target(rec, 0), "I[3]") == 0);
  CHECK(sailir_family_symbol_count(f) == 2 && std::strcmp(sailir_family_symbol(f, 0), "d") == 0);
  const uint64_t p = 9223372036854775783ULL;
  for (uint64_t d : {41ULL, 12345ULL, 987654321987ULL}) {
    const uint64_t values[2] = {d, 7};  // d, msq
    uint64_t out = 0;
    CHECK(sailir_recording_replay(rec, p, values, 2, &out) == 0);
    CHECK(out == tadpole_i3(d, 7, p));
  }
  uint64_t out = 0;
  const uint64_t one[1] = {41};
  CHECK(sailir_recording_replay(rec, p, one, 1, &out) != 0 && sailir_last_error_kind() == SAILIR_ERROR_BAD_INPUT);
  sailir_family* bubble = sailir_family_load("bubble", nullptr, 0, nullptr);
  CHECK(failed_with(sailir_recording_load(bubble, path.c_str()), SAILIR_ERROR_BAD_INPUT, "tadpole"));
  CHECK(failed_with(sailir_recording_load(f, "/nonexistent.rec"), SAILIR_ERROR_BAD_INPUT, "nonexistent"));
  sailir_recording_free(rec);
  sailir_family_free(bubble);
  sailir_family_free(f);
  std::filesystem::remove(path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) test_recording(argv[1]);
  test_tadpole_closed_form();
  test_shared_family();
  test_masters_file();
  test_learned();
  test_errors();
  test_cpp_wrapper();
  TEST_MAIN_END();
}
