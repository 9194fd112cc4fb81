/* sailir.h: the C API of the sailir engine, for embedding it in C, C++, Fortran (ISO_C_BINDING),
 * Julia, ... codes. It reduces Feynman integrals of a family to master integrals, exactly, modulo
 * a 63-bit prime at a numeric point, with the Laporta reducer or a learned policy.
 *
 * C99 compatible. Link the library with CMake:
 *
 *     find_package(sailir CONFIG REQUIRED)
 *     target_link_libraries(app PRIVATE sailir::sailir)
 *
 * Conventions
 *   - Objects are opaque handles, created by a *_load or sailir_reduce call and released with the
 *     matching *_free (which accept NULL). Families and policies never change after loading: one
 *     handle may be used by any number of threads at once. A result belongs to the caller.
 *   - A load or reduce call that fails returns NULL and records the reason for the calling
 *     thread: sailir_last_error() is a one-line message, sailir_last_error_kind() its kind. Such
 *     a call clears both when it succeeds. Readers never fail: given a NULL handle or an index
 *     out of range they return 0, NULL or a nonzero status and leave the error alone. No C++
 *     exception ever leaves these functions.
 *   - Strings returned by readers are owned by the handle they were read from and live as long
 *     as it does.
 *   - Integrals are written I[a1,...,an]: one integer power per propagator of the family.
 *   - Coefficients are residues in [0, p) for the prime p of the result.
 *
 * See docs/embedding.md for a complete example.
 */
#ifndef SAILIR_H
#define SAILIR_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) && defined(SAILIR_BUILDING_LIBRARY)
#define SAILIR_API __declspec(dllexport)
#elif defined(__GNUC__)
#define SAILIR_API __attribute__((visibility("default")))
#else
#define SAILIR_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH" (the CMake package's version). */
SAILIR_API const char* sailir_version(void);

/* ---- Errors -------------------------------------------------------------------------------- */

typedef enum sailir_error_kind {
  SAILIR_OK = 0,
  SAILIR_ERROR_BAD_INPUT = 1,        /* unknown or malformed family, point, prime, masters file,
                                        integral or option */
  SAILIR_ERROR_BAD_POLICY_FILE = 2,  /* unreadable, corrupt or unsupported policy file, or no
                                        policy shipped for the family */
  SAILIR_ERROR_POLICY_MISMATCH = 3,  /* a valid policy made for another family, identities or
                                        feature version */
  SAILIR_ERROR_NOT_REDUCED = 4,      /* an integral could not be reduced to masters, or the
                                        learned result disagreed with its verification */
  SAILIR_ERROR_INTERNAL = 5          /* anything else (a bug, out of memory) */
} sailir_error_kind;

/* The last failure of the calling thread as one line without a trailing newline; "" when the
 * thread's last load or reduce call succeeded. Valid until the thread's next such call. */
SAILIR_API const char* sailir_last_error(void);
/* The kind of that failure; SAILIR_OK when there is none. */
SAILIR_API sailir_error_kind sailir_last_error_kind(void);
/* "ok", "bad input", "bad policy file", "policy mismatch", "not reduced", "internal". */
SAILIR_API const char* sailir_error_kind_name(sailir_error_kind kind);

/* ---- Families ------------------------------------------------------------------------------ */

typedef struct sailir_family sailir_family;

/* Loads a family at a numeric point and prime.
 *   spec          a built-in family (trianglebox, tadpole, bubble, prop2l) or a compiled .sfam
 *                 file. A family YAML file or Kira config directory (DIR or DIR:name) is compiled
 *                 by the sailir Python package (sympy derives the identities): it works only
 *                 where that package is installed (the interpreter is $SAILIR_PYTHON, else a
 *                 python3 beside the running program, else python3 on PATH). Compile it once
 *                 with `python -m sailir.compile SPEC` and load the .sfam file it prints to
 *                 embed without Python.
 *   point         NULL or "" for the family's default point; "d=41,m2=31/7" overrides some
 *                 symbols. A symbol given a value by neither gets a random rational. A degenerate point (d = 4, a vanishing invariant) is refused when a
 *                 reduction runs.
 *   prime         0 for the default 2^63 - 25; otherwise a prime with 2^16 <= prime < 2^63.
 *   masters_file  NULL or "" for the family's preferred master basis (automatic when it has
 *                 none); otherwise a file with one I[...] per line ('#' starts a comment line).
 * Returns NULL on failure (kind SAILIR_ERROR_BAD_INPUT). */
SAILIR_API sailir_family* sailir_family_load(const char* spec, const char* point, uint64_t prime,
                                             const char* masters_file);
SAILIR_API void sailir_family_free(sailir_family* family);

SAILIR_API const char* sailir_family_name(const sailir_family* family);
SAILIR_API const char* sailir_family_hash(const sailir_family* family);
/* Number of propagators n: the number of powers in I[a1,...,an]. */
SAILIR_API size_t sailir_family_propagators(const sailir_family* family);
SAILIR_API uint64_t sailir_family_prime(const sailir_family* family);
/* The resolved point, every symbol: "d=41,m1=1,m2=31,m3=47". */
SAILIR_API const char* sailir_family_point(const sailir_family* family);
/* The family's symbols (d first, then the invariants), the order of values in
 * sailir_recording_replay. NULL when i is out of range. */
SAILIR_API size_t sailir_family_symbol_count(const sailir_family* family);
SAILIR_API const char* sailir_family_symbol(const sailir_family* family, size_t i);

/* ---- Policies ------------------------------------------------------------------------------ */

typedef struct sailir_policy sailir_policy;

/* Loads a policy (an exported ONNX file, docs/policy-file.md) for `family` and checks that it was
 * made for it and that its scores on a probe batch of the family are finite and not all equal.
 * path NULL or "": the policy shipped for the family (built-in families only); "uniform": the
 * ablation baseline that scores every candidate alike (docs/policy-ablation.md).
 * Loading builds the family's master basis at its point, so it takes a moment.
 * Returns NULL on failure: SAILIR_ERROR_BAD_POLICY_FILE or SAILIR_ERROR_POLICY_MISMATCH (or
 * SAILIR_ERROR_BAD_INPUT for a NULL family, or path "random": use sailir_policy_random). */
SAILIR_API sailir_policy* sailir_policy_load(const sailir_family* family, const char* path);
/* The ablation baseline with seeded pseudo-random scores (the same seed, the same choices).
 * Returns NULL (SAILIR_ERROR_BAD_INPUT) for a NULL family. */
SAILIR_API sailir_policy* sailir_policy_random(const sailir_family* family, uint64_t seed);
SAILIR_API void sailir_policy_free(sailir_policy* policy);

/* ---- Reduction ----------------------------------------------------------------------------- */

typedef enum sailir_method {
  SAILIR_METHOD_LAPORTA = 0, /* Laporta: solves the identities sector by sector; no policy */
  SAILIR_METHOD_LEARNED = 1  /* beam search guided by a policy, Laporta as a counted fallback */
} sailir_method;

typedef struct sailir_options {
  sailir_method method; /* default SAILIR_METHOD_LAPORTA */
  int beam_width;       /* learned: beams per job (default 1) */
  int threads;          /* worker threads, 1-256 (default 2). Laporta: 2 or more recompute the
                           check prime beside the first; learned: jobs run in parallel */
  int check;            /* nonzero (default): recompute at a second prime; accidental zeros and
                           unlucky primes are settled there and reported as warnings */
  int verify;           /* learned: nonzero compares every coefficient with the Laporta reducer
                           (default 0); a disagreement fails with SAILIR_ERROR_NOT_REDUCED */
  size_t memory_per_worker; /* learned: bytes each worker's state may hold (default 96 MiB) */
  size_t memory_limit;      /* Laporta: bytes a run may use (0, the default: 75% of the memory
                               available); beyond it SAILIR_ERROR_NOT_REDUCED at once */
  const char* checkpoint;   /* learned: a directory recording finished jobs; the same call with
                               the same directory resumes (default NULL: none) */
  int symmetries;           /* nonzero (default): masters related by sector symmetries are
                               eliminated, leaving masters in unique sectors only */
} sailir_options;

/* The defaults above. Start from these and change fields, so that code keeps compiling and
 * behaving when fields are added. */
SAILIR_API sailir_options sailir_default_options(void);

typedef struct sailir_result sailir_result;

/* Reduces `count` integrals (texts "I[...]") of `family` to its masters. `policy` is needed for
 * SAILIR_METHOD_LEARNED and ignored (may be NULL) for SAILIR_METHOD_LAPORTA; `options` NULL means
 * sailir_default_options(). Returns NULL on failure: SAILIR_ERROR_BAD_INPUT (a malformed integral,
 * a degenerate point, bad options, no policy for the learned method), SAILIR_ERROR_POLICY_MISMATCH
 * (a policy loaded for another family), SAILIR_ERROR_NOT_REDUCED or SAILIR_ERROR_INTERNAL. */
SAILIR_API sailir_result* sailir_reduce(const sailir_family* family, const sailir_policy* policy,
                                        const char* const* integrals, size_t count, const sailir_options* options);
SAILIR_API void sailir_result_free(sailir_result* result);

/* The prime the coefficients are residues for (the family's prime unless a rank drop there made
 * the check replace it: then a warning says so), and the check prime (0 when not checked). */
SAILIR_API uint64_t sailir_result_prime(const sailir_result* result);
SAILIR_API uint64_t sailir_result_check_prime(const sailir_result* result);

/* Master integrals, ascending in the Laporta order: "I[...]". NULL when i is out of range. */
SAILIR_API size_t sailir_result_master_count(const sailir_result* result);
SAILIR_API const char* sailir_result_master(const sailir_result* result, size_t i);

/* Targets in the order given, written canonically ("I[1,1,1,1,1,1,0]"). */
SAILIR_API size_t sailir_result_target_count(const sailir_result* result);
SAILIR_API const char* sailir_result_target(const sailir_result* result, size_t t);

/* Coefficient of master m in target t (0 when it vanishes or an index is out of range). */
SAILIR_API uint64_t sailir_result_coefficient(const sailir_result* result, size_t t, size_t m);

/* The nonzero coefficients of target t, ascending in master index: term k is master
 * *master with coefficient *coefficient. sailir_result_term returns 0 on success, nonzero
 * (and leaves the outputs alone) when an index is out of range. */
SAILIR_API size_t sailir_result_term_count(const sailir_result* result, size_t t);
SAILIR_API int sailir_result_term(const sailir_result* result, size_t t, size_t k, size_t* master,
                                  uint64_t* coefficient);

/* Notes that do not invalidate the result (masters added to a preferred basis, a settled
 * accidental zero, a replaced prime), one line each. */
SAILIR_API size_t sailir_result_warning_count(const sailir_result* result);
SAILIR_API const char* sailir_result_warning(const sailir_result* result, size_t i);

typedef struct sailir_stats {
  double seconds;       /* wall time of the reduction */
  uint64_t equations;   /* Laporta: equations generated (0 for learned) */
  uint64_t pivots;      /* Laporta: pivots eliminated (0 for learned) */
  uint64_t jobs;        /* learned: one-step jobs solved (0 for Laporta) */
  uint64_t memo_hits;   /* learned: jobs answered from the memo cache */
  uint64_t fallbacks;   /* learned: jobs handed to the Laporta reducer */
  int verified;         /* learned: 1 when options.verify ran and every coefficient agreed */
} sailir_stats;

/* Statistics of the reduction (all zero for a NULL result). */
SAILIR_API sailir_stats sailir_result_stats(const sailir_result* result);

/* ---- Recordings: exact results from your own reconstruction ------------------------------ */

typedef struct sailir_recording sailir_recording;

/* Loads a recording saved by `sailir-reduce --save-path FILE` (either method) for `family`: the
 * equations its targets need, in elimination order (docs/recording.md). Returns NULL on failure:
 * SAILIR_ERROR_BAD_INPUT for a missing, corrupt or foreign file (made for another family). */
SAILIR_API sailir_recording* sailir_recording_load(const sailir_family* family, const char* path);
SAILIR_API void sailir_recording_free(sailir_recording* recording);

SAILIR_API size_t sailir_recording_master_count(const sailir_recording* recording);
SAILIR_API const char* sailir_recording_master(const sailir_recording* recording, size_t i);
SAILIR_API size_t sailir_recording_target_count(const sailir_recording* recording);
SAILIR_API const char* sailir_recording_target(const sailir_recording* recording, size_t t);

/* Replays the recording modulo `prime` (2^16 <= prime < 2^63) at the point whose symbol values are
 * values[0..count) (residues, in sailir_family_symbol order; count must be the symbol count).
 * Writes targets x masters coefficients, row-major, into out. Arithmetic only: thread-safe, and a
 * probe costs the recording's multiply-adds. Returns 0 on success; nonzero on failure with
 * sailir_last_error(): SAILIR_ERROR_BAD_INPUT (arguments), SAILIR_ERROR_NOT_REDUCED (a pivot
 * vanishes at this point: a degenerate probe; pick another). Drive your own rational
 * reconstruction (FireFly, FiniteFlow) with it, or use `sailir-reduce --analytic`. */
SAILIR_API int sailir_recording_replay(const sailir_recording* recording, uint64_t prime, const uint64_t* values,
                                       size_t count, uint64_t* out);

#ifdef __cplusplus
}
#endif

#endif /* SAILIR_H */
