// sailir-reduce: the native command line. Exit codes (also in --help): 0 success, 1 internal
// error, 2 bad input, 3 not reduced, 4 verification disagreed, 5-9 particular bad inputs.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <iostream>
#include <sstream>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "memory/meter.hpp"
#include "output/output_file.hpp"
#include "output/writers.hpp"
#include "policy/policy.hpp"
#include "reconstruct/reconstruct.hpp"
#include "scheduler/job_store.hpp"
#include "scheduler/request_checks.hpp"

namespace {

constexpr int kExitInternal = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitNotReduced = 3;
constexpr int kExitNotVerified = 4;
constexpr int kExitBadIntegral = 5;
constexpr int kExitBadPrime = 6;
constexpr int kExitMissingFile = 7;
constexpr int kExitBadPolicyFile = 8;
constexpr int kExitPolicyMismatch = 9;
constexpr int kExitNotWritten = 10;  // an output file could not be written (checked up front: 2)
constexpr int kExitMemoryLimit = 11;

// SIGINT / SIGTERM: the learned run stops at its next step (the handler only sets a flag; a
// second signal ends the process at once, as the handler is reset).
std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};
extern "C" void on_stop_signal(int sig) {
  g_signal.store(sig);
  g_stop.store(true);
}
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

const char* kUsage = R"(usage: sailir-reduce [options] INTEGRAL...
       sailir-reduce --analytic [--method laporta|learned] [--point NAME=VALUE,...] INTEGRAL...
       sailir-reduce --replay FILE [--analytic] [--point ...]

Reduces Feynman integrals, written I[a1,...,an], to master integrals modulo a prime at a
numeric point, and checks the result at a second prime. With --analytic the coefficients are
exact rational functions of d and of every invariant that --point does not fix.

options:
  --family NAME|PATH   built-in family (trianglebox, tadpole, bubble, prop2l), a family YAML
                       file, a Kira config directory (DIR or DIR:family) or a compiled .sfam
                       file (default: trianglebox)
  --method laporta|learned
                       reduction method (default: laporta)
  --policy FILE|uniform|random
                       learned: exported policy (default: the one shipped for the family), or
                       an ablation baseline: uniform (equal scores for every candidate) or
                       random (seeded pseudo-random scores; needs --seed). A policy whose
                       scores are not finite or all equal on a probe batch is refused (8)
  --seed S             the seed of --policy random, 0 <= S < 2^64
  --beam-width N       learned: beam width (default: 1)
  --ranking auto|max|total|both|policy
                       learned: rank beam states by max weight, total weight or both, the
                       policy breaking ties; or by the policy's scores alone (policy). auto
                       (default): policy for a policy that says it ranks alone (improved on
                       the engine's own paths, as the shipped one), else both
  --tied-targets N     learned: targets tried among integrals tied at the top weight (default 1)
  --max-steps N        learned: beam steps before a job counts as failed (default: 1000)
  --patience N         learned: ... or steps without its highest integral coming down (default: off)
  --retries N          learned: retries of a failed job: four times the steps after reaching
                       --max-steps, else seeds one larger in r and s (default 2)
  --no-fallback        learned: fail instead of handing an unsolved job to Laporta
  --verify             learned: compare every coefficient with the Laporta reducer
  --memory-per-worker SIZE
                       learned: memory budget of each worker's reduction state, e.g. 32M
                       (k, M, G: powers of 1024; default 96M). At the budget a worker trades
                       time for memory; the run's peak stays below threads x SIZE + the memo
                       + a fixed base (printed with --progress)
  --analytic           exact coefficients: reconstructed from probes of the recorded reduction
                       at random points and several primes (the family's default point does
                       not apply; --point fixes symbols that stay numeric)
  --max-probes N       analytic: probe budget; not converging within it is an error (default
                       1000000; box2l's 216 targets need 230,282)
  --device auto|cpu|cuda
                       analytic: where probes run (default auto: a CUDA GPU when this build
                       has CUDA support and one is usable, else the CPU, with a notice; cuda
                       without a usable GPU is an error)
  --cluster ADDRESS    analytic: probes on a Dask scheduler; run the command as `sailir reduce`
                       (the Python front end holds the Dask client)
  --memo-memory SIZE   learned: memory for finished jobs' values (default 32M); beyond it they go
                       to the checkpoint (or a temporary store) and are read back when needed
  --checkpoint DIR     learned: record finished jobs in DIR (SQLite) as they finish; rerunning
                       the same command with the same DIR resumes. Ctrl-C or SIGTERM stops the
                       run, says how to resume, and exits 130 or 143
  --memory-limit SIZE  memory a Laporta run may use (also the learned method's fallback and
                       --verify); a system beyond it stops at once, naming the size it would
                       need (default: 75% of the memory available)
  --save-path FILE     save the recording: the equations the result needs, in elimination order
                       (either method; replayable at any prime and point without a policy)
  --replay FILE        recompute a saved recording (or a learned path of sailir 0.1) at --prime
                       and --point, or exactly with --analytic
  --prime P            prime modulus, 2^16 <= P < 2^63 (default: 9223372036854775783)
  --point S=V,...      numeric point, e.g. d=41,m1=1,m2=31,m3=47; values may be fractions p/q
                       (default: the family's point; analytic: the symbols kept numeric)
  --masters FILE       preferred master basis, one I[...] per line (default: the family's own)
  --auto-masters       ignore the family's preferred basis and choose masters automatically
  --integrals FILE     read further integrals from FILE, one per line
  --format json|mathematica|form
                       output format (default: json)
  --output FILE        write the result to FILE instead of standard output
  --r-extra N          seeds with N more dots than the integrals need (default: 0; learned: the
                       seeds of each job's identities)
  --s-extra N          seeds with N more numerator powers than needed (default: 0)
  --no-check           skip the check at a second prime (learned: the replay of the path)
  --no-symmetries      keep masters that sector symmetries relate (default: eliminate them, so
                       every master lies in a unique sector)
  --threads N          threads (default 2; laporta: the check prime runs beside the first,
                       learned: worker threads running jobs; analytic: probes in parallel)
  --progress / --quiet force / suppress progress lines on standard error (--quiet also
                       notices)
  -h, --help           show this help
exit status: 0 success, 1 internal error, 2 bad input (also a corrupt recording or one made for
  another family), 3 reduction not completed (also an unconverged reconstruction),
  4 --verify disagreed (the result is still written), 5 malformed integral, 6 bad prime,
  7 missing or unreadable input file, 8 corrupt policy file (also one whose scores are not
  finite or cannot rank), 9 policy made for another family,
  10 the result could not be written (a full disk: the message names the file that keeps it),
  11 beyond the memory limit, 130/143 interrupted by SIGINT/SIGTERM
)";

struct BadInput : std::runtime_error {
  int code;
  explicit BadInput(const std::string& what, int c = kExitBadInput) : std::runtime_error(what), code(c) {}
};

std::string read_text(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw BadInput(std::string("cannot read ") + what + " file " + path, kExitMissingFile);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

int parse_int(const std::string& opt, const std::string& v, int lo = 0, int hi = 20) {
  try {
    std::size_t used = 0;
    int x = std::stoi(v, &used);
    if (used == v.size() && x >= lo && x <= hi) return x;
  } catch (const std::exception&) {
  }
  throw BadInput(opt + " expects an integer between " + std::to_string(lo) + " and " + std::to_string(hi) + ", not '" +
                 v + "'");
}

// A 64-bit seed in decimal.
std::uint64_t parse_seed(const std::string& opt, const std::string& v) {
  const bool digits = !v.empty() && v.size() <= 20 && v.find_first_not_of("0123456789") == std::string::npos;
  try {
    if (digits) return std::stoull(v);
  } catch (const std::out_of_range&) {
  }
  throw BadInput(opt + " expects an integer between 0 and 18446744073709551615, not '" + v + "'");
}

template <class F>
auto with_code(int code, F&& f) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    throw BadInput(e.what(), code);
  }
}

// Learned-method progress on standard error: a line a second, jobs done / pending.
std::function<void(const sailir::LearnedProgress&)> learned_progress(std::chrono::steady_clock::time_point t0) {
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [t0, last](const sailir::LearnedProgress& p) {
    auto now = std::chrono::steady_clock::now();
    if (p.phase == "search" && now - *last < std::chrono::seconds(1)) return;
    *last = now;
    double s = std::chrono::duration<double>(now - t0).count();
    if (p.phase != "search") {
      std::fprintf(stderr, "sailir-reduce [%7.1fs] %s\n", s, p.phase.c_str());
      return;
    }
    std::fprintf(stderr, "sailir-reduce [%7.1fs] jobs %zu done, %zu pending, %zu running; %zu integrals left; %zu fallbacks\n",
                 s, p.jobs_done, p.jobs_pending, p.jobs_running, p.remaining, p.fallbacks);
  };
}

// Peak resident memory of this process in MB (Linux: VmHWM; 0 elsewhere). Read by the process
// itself because a parent's wait4 figure is not the engine's own: at exec, Linux folds the
// high-water mark of the memory being replaced (the parent's, when spawned by vfork) into it.
double own_peak_rss_mb() { return static_cast<double>(sailir::peak_resident_bytes()) / (1 << 20); }

// A result as written: with the peak memory the process reached to compute it.
sailir::ReductionResult stamped(sailir::ReductionResult r) {
  r.peak_rss_mb = own_peak_rss_mb();
  return r;
}

// Command-line state beyond the engine's options: where things come from and where they go.
struct Command {
  std::string family_spec = "trianglebox", prime_text, masters_file, format = "json", output, save_path, replay_file;
  std::vector<std::string> integrals;
  bool auto_masters = false, quiet = false;
  int progress = isatty(STDERR_FILENO) ? 1 : 0;
};

// Parses the command line into `cmd` and `opt`; false after --help.
bool parse_args(int argc, char** argv, Command& cmd, sailir::EngineOptions& opt) {
  using namespace sailir;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      auto eq = arg.find('=');
      if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
        std::string v = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        return v;
      }
      if (i + 1 >= argc) throw BadInput("option " + arg + " needs a value");
      return argv[++i];
    };
    auto number = [&](int lo, int hi) { return parse_int(arg.substr(0, arg.find('=')), value(), lo, hi); };
    std::string name = arg.substr(0, arg.find('='));
    BeamOptions& beam = opt.learned.beam;
    if (name == "-h" || name == "--help") {
      std::cout << kUsage;
      return false;
    } else if (name == "--family") cmd.family_spec = value();
    else if (name == "--method") opt.method = value();
    else if (name == "--prime") cmd.prime_text = value();
    else if (name == "--point") opt.point = value();
    else if (name == "--masters") cmd.masters_file = value();
    else if (name == "--auto-masters") cmd.auto_masters = true;
    else if (name == "--integrals") {
      for (auto& s : integral_list(read_text(value(), "integrals"))) cmd.integrals.push_back(s);
    } else if (name == "--format") cmd.format = value();
    else if (name == "--output") cmd.output = value();
    else if (name == "--policy") opt.policy = value();
    else if (name == "--seed") opt.policy_seed = parse_seed(name, value());
    else if (name == "--beam-width") beam.width = number(1, RequestLimits::max_beam_width);
    else if (name == "--ranking") beam.ranking = parse_beam_ranking(value());
    else if (name == "--tied-targets") beam.tied_targets = number(1, RequestLimits::max_tied_targets);
    else if (name == "--max-steps") beam.max_steps = number(1, RequestLimits::max_steps);
    else if (name == "--patience") beam.patience = number(0, RequestLimits::max_steps);
    else if (name == "--retries") opt.learned.retries = number(0, RequestLimits::max_retries);
    else if (name == "--no-fallback") opt.learned.fallback = false;
    else if (name == "--verify") opt.learned.verify = true;
    else if (name == "--memory-per-worker") opt.learned.memory_per_worker = sailir::parse_size(value());
    else if (name == "--memo-memory") opt.learned.memo_memory = sailir::parse_size(value());
    else if (name == "--checkpoint") opt.learned.checkpoint = value();
    else if (name == "--memory-limit") opt.memory_limit = sailir::parse_size(value());
    else if (name == "--save-path") cmd.save_path = value();
    else if (name == "--replay") cmd.replay_file = value();
    else if (name == "--analytic") opt.analytic = true;
    else if (name == "--max-probes") opt.max_probes = static_cast<std::size_t>(number(1, 1000000000));
    else if (name == "--cluster")
      throw BadInput("--cluster needs the Python front end's Dask client: run the same command as `sailir reduce --cluster ...`");
    else if (name == "--r-extra") opt.r_extra = beam.seed_r_extra = number(0, RequestLimits::max_extra);
    else if (name == "--s-extra") opt.s_extra = beam.seed_s_extra = number(0, RequestLimits::max_extra);
    else if (name == "--no-check") opt.check = false;
    else if (name == "--no-symmetries") opt.symmetries = false;
    else if (name == "--threads") opt.threads = number(1, RequestLimits::max_threads);
    else if (name == "--progress") cmd.progress = 1;
    else if (name == "--quiet") cmd.progress = 0, cmd.quiet = true;
    else if (name == "--device") opt.device = parse_device(value());
    else if (arg.rfind("--", 0) == 0) throw BadInput("unknown option " + arg + " (see --help)");
    else cmd.integrals.push_back(arg);
  }
  return true;
}

// A place that cannot take the result is bad input, found before any reduction.
sailir::OutputFile output_file(const std::string& path) {
  try {
    return sailir::OutputFile(path);
  } catch (const sailir::OutputError& e) {
    throw BadInput(e.what());
  }
}

// The family-dependent options: the prime, the basis and each integral, with their exit codes.
void resolve(const Command& cmd, const sailir::FamilyDef& family, sailir::EngineOptions& opt) {
  using namespace sailir;
  opt.prime = cmd.prime_text.empty() ? kDefaultPrime : with_code(kExitBadPrime, [&] { return n_parse_prime(cmd.prime_text); });
  if (!cmd.masters_file.empty()) {
    opt.masters.emplace();
    for (auto& s : integral_list(read_text(cmd.masters_file, "masters"))) {
      with_code(kExitBadIntegral, [&] { return parse_family_integral(family, s); });
      opt.masters->push_back(s);
    }
  } else if (cmd.auto_masters) {
    opt.masters.emplace();
  }
  for (auto& s : cmd.integrals) with_code(kExitBadIntegral, [&] { return parse_family_integral(family, s); });
}

int run(int argc, char** argv) {
  using namespace sailir;
  Command cmd;
  EngineOptions opt;
  if (!parse_args(argc, argv, cmd, opt)) return 0;
  const OutputFormat fmt = parse_output_format(cmd.format);
  check_options(opt);
  const OutputFile out = output_file(cmd.output);  // checked now, before any reduction
  const std::optional<OutputFile> recording_out =
      cmd.save_path.empty() ? std::nullopt : std::optional<OutputFile>(output_file(cmd.save_path));
  opt.record = recording_out.has_value();

  const Engine engine = Engine::load(cmd.family_spec);
  const FamilyDef& family = engine.family();
  resolve(cmd, family, opt);
  auto t0 = std::chrono::steady_clock::now();
  if (cmd.progress) {
    opt.progress = [t0](const std::string& msg) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "sailir-reduce [%7.1fs] %s\n", s, msg.c_str());
    };
    opt.learned.progress = learned_progress(t0);
  }
  if (!cmd.quiet) opt.notice = [](const std::string& msg) { std::fprintf(stderr, "sailir-reduce: notice: %s\n", msg.c_str()); };
  if (cmd.replay_file.empty() && cmd.integrals.empty()) throw BadInput("no integral to reduce (see --help)");
  if (opt.method == "learned" && cmd.replay_file.empty()) {
    opt.learned.stop = &g_stop;
    install_stop_handlers();
  }
  EngineResult res = cmd.replay_file.empty()
                         ? engine.reduce(cmd.integrals, opt)
                         : engine.replay(read_text(cmd.replay_file, "replay"), cmd.integrals, opt);
  std::optional<OutputError> unsaved;  // the result is written even when the recording is not
  try {
    if (recording_out && res.recording) recording_out->write(res.recording->to_text());
  } catch (const OutputError& e) {
    unsaved = e;
  }
  if (res.analytic) {
    out.write(write_analytic(family, *res.analytic, fmt, res.method, own_peak_rss_mb()));
  } else {
    for (auto& w : res.numeric.warnings) std::fprintf(stderr, "sailir-reduce: warning: %s\n", w.c_str());
    out.write(write_result(family, stamped(std::move(res.numeric)), fmt, res.method));
  }
  if (unsaved) throw *unsaved;
  if (res.verified && !*res.verified) {
    std::fprintf(stderr, "sailir-reduce: error: verification failed: %s\n", res.verify_error.c_str());
    return kExitNotVerified;
  }
  return 0;
}

int fail(const char* kind, const std::exception& e, int code) {
  std::fprintf(stderr, "sailir-reduce: %s: %s\n", kind, e.what());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const BadInput& e) {
    return fail("error", e, e.code);
  } catch (const sailir::OutputError& e) {
    return fail("error", e, kExitNotWritten);
  } catch (const sailir::PolicyFileError& e) {
    return fail("error", e, kExitBadPolicyFile);
  } catch (const sailir::PolicyMismatchError& e) {
    return fail("error", e, kExitPolicyMismatch);
  } catch (const sailir::RecordingFileError& e) {
    return fail("error", e, kExitBadInput);
  } catch (const sailir::RecordingError& e) {
    return fail("error", e, kExitNotReduced);
  } catch (const sailir::NotConvergedError& e) {
    return fail("error", e, kExitNotReduced);
  } catch (const sailir::VerificationError& e) {
    return fail("error", e, kExitNotReduced);
  } catch (const sailir::FamilyFileError& e) {
    return fail("error", e, kExitBadInput);
  } catch (const std::invalid_argument& e) {
    return fail("error", e, kExitBadInput);
  } catch (const std::domain_error& e) {  // the point is impossible modulo the prime
    return fail("error", e, kExitBadInput);
  } catch (const sailir::UnreducedError& e) {
    return fail("error", e, kExitNotReduced);
  } catch (const sailir::CheckpointError& e) {
    return fail("error", e, kExitBadInput);
  } catch (const sailir::MemoryLimitError& e) {
    return fail("error", e, kExitMemoryLimit);
  } catch (const sailir::Interrupted& e) {
    std::fprintf(stderr, "sailir-reduce: %s\n", e.what());
    return 128 + (g_signal.load() ? g_signal.load() : SIGINT);
  } catch (const std::exception& e) {
    return fail("internal error", e, kExitInternal);
  }
}
