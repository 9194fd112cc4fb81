// A minimal assertion harness for the C++ unit tests (run by ctest): each failed CHECK prints
// its location and the test exits non-zero.
#pragma once

#include <cstdio>

inline int g_failures = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                        \
    }                                                                      \
  } while (0)

#define CHECK_THROWS(expr)                                                 \
  do {                                                                     \
    bool thrown_ = false;                                                  \
    try {                                                                  \
      (void)(expr);                                                        \
    } catch (...) {                                                        \
      thrown_ = true;                                                      \
    }                                                                      \
    if (!thrown_) {                                                        \
      std::fprintf(stderr, "%s:%d: expected an exception: %s\n", __FILE__, __LINE__, #expr); \
      ++g_failures;                                                        \
    }                                                                      \
  } while (0)

#define TEST_MAIN_END()                                                    \
  std::printf("%s\n", g_failures ? "FAILED" : "OK");                      \
  return g_failures ? 1 : 0
