/* Reduces integrals of the triangle-box family to its 16 master integrals through the C API and
 * prints, for each integral, a line "# I[target]" and then one line "I[master] coefficient" per
 * nonzero coefficient (a residue modulo the prime printed first).
 *
 *   reduce_integral [--method laporta|learned] INTEGRAL...
 *   reduce_integral "I[1,1,1,1,1,1,0]"
 *
 * Exit status: 0 success, 2 bad input, 3 not reduced, 1 anything else. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sailir.h"

static int fail(const char* what) {
  sailir_error_kind kind = sailir_last_error_kind();
  fprintf(stderr, "reduce_integral: %s: %s (%s)\n", what, sailir_last_error(), sailir_error_kind_name(kind));
  return kind == SAILIR_ERROR_BAD_INPUT ? 2 : kind == SAILIR_ERROR_NOT_REDUCED ? 3 : 1;
}

int main(int argc, char** argv) {
  sailir_options options = sailir_default_options();
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "--method") == 0) {
    if (strcmp(argv[2], "learned") == 0) {
      options.method = SAILIR_METHOD_LEARNED;
    } else if (strcmp(argv[2], "laporta") != 0) {
      fprintf(stderr, "reduce_integral: unknown method '%s' (laporta, learned)\n", argv[2]);
      return 2;
    }
    first = 3;
  }
  if (first >= argc) {
    fprintf(stderr, "usage: reduce_integral [--method laporta|learned] INTEGRAL...\n");
    return 2;
  }

  /* The family at its default point (d=41, m1=1, m2=31, m3=47) and the default prime 2^63-25,
   * with its preferred masters. */
  sailir_family* family = sailir_family_load("trianglebox", NULL, 0, NULL);
  if (!family) return fail("family");

  sailir_policy* policy = NULL; /* the Laporta reducer needs none */
  if (options.method == SAILIR_METHOD_LEARNED) {
    policy = sailir_policy_load(family, NULL); /* the policy shipped for the family */
    if (!policy) {
      int status = fail("policy");
      sailir_family_free(family);
      return status;
    }
  }

  sailir_result* result =
      sailir_reduce(family, policy, (const char* const*)(argv + first), (size_t)(argc - first), &options);
  if (!result) {
    int status = fail("reduce");
    sailir_policy_free(policy);
    sailir_family_free(family);
    return status;
  }

  printf("# prime %" PRIu64 "\n", sailir_result_prime(result));
  for (size_t t = 0; t < sailir_result_target_count(result); ++t) {
    printf("# %s\n", sailir_result_target(result, t));
    for (size_t k = 0; k < sailir_result_term_count(result, t); ++k) {
      size_t m;
      uint64_t c;
      sailir_result_term(result, t, k, &m, &c);
      printf("%s %" PRIu64 "\n", sailir_result_master(result, m), c);
    }
  }
  for (size_t i = 0; i < sailir_result_warning_count(result); ++i)
    fprintf(stderr, "reduce_integral: warning: %s\n", sailir_result_warning(result, i));

  sailir_result_free(result);
  sailir_policy_free(policy);
  sailir_family_free(family);
  return 0;
}
