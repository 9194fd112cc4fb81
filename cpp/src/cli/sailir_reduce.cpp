// sailir-reduce: the native command line. Exit codes: 0 success, 2 bad input, 3 a reduction
// that could not be completed, 1 an internal error.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "family/family_source.hpp"
#include "family/point.hpp"
#include "laporta/checked_reduction.hpp"
#include "output/writers.hpp"

namespace {

constexpr int kExitInternal = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitNotReduced = 3;

const char* kUsage = R"(usage: sailir-reduce [options] INTEGRAL...

Reduces Feynman integrals, written I[a1,...,an], to master integrals modulo a prime at a
numeric point, and checks the result at a second prime.

options:
  --family NAME|PATH   built-in family (trianglebox, tadpole, bubble, prop2l), a family YAML
                       file, a Kira config directory (DIR or DIR:family) or a compiled .sfam
                       file (default: trianglebox)
  --method laporta|learned
                       reduction method (default: laporta)
  --prime P            prime modulus, 2^16 <= P < 2^63 (default: 9223372036854775783)
  --point S=V,...      numeric point, e.g. d=41,m1=1,m2=31,m3=47; values may be fractions p/q
                       (default: the family's point)
  --masters FILE       preferred master basis, one I[...] per line (default: the family's own)
  --auto-masters       ignore the family's preferred basis and choose masters automatically
  --integrals FILE     read further integrals from FILE, one per line
  --format json|mathematica|form
                       output format (default: json)
  --output FILE        write the result to FILE instead of standard output
  --r-extra N          seeds with N more dots than the integrals need (default: 0)
  --s-extra N          seeds with N more numerator powers than needed (default: 0)
  --no-check           skip the check at a second prime
  --threads N          threads (default 2: the check prime runs beside the first)
  --progress / --quiet force / suppress progress lines on standard error
  -h, --help           show this help
exit status: 0 success, 2 bad input, 3 reduction not completed, 1 internal error
)";

struct BadInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string read_text(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw BadInput(std::string("cannot read ") + what + " file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::string> integral_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    auto end = line.find_last_not_of(" \t\r");
    out.push_back(line.substr(start, end - start + 1));
  }
  return out;
}

int parse_int(const std::string& opt, const std::string& v) {
  try {
    std::size_t used = 0;
    int x = std::stoi(v, &used);
    if (used == v.size() && x >= 0 && x <= 20) return x;
  } catch (const std::exception&) {
  }
  throw BadInput(opt + " expects an integer between 0 and 20, not '" + v + "'");
}

void write_output(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::cout << text << std::flush;
    return;
  }
  // Write beside the target and rename, so an interrupted run never leaves half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out || !(out << text) || !out.flush()) throw BadInput("cannot write output file " + path);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw BadInput("cannot write output file " + path);
}

int run(int argc, char** argv) {
  using namespace sailir;
  std::string family_spec = "trianglebox", method = "laporta", prime_text, point_spec, masters_file, format = "json",
              output;
  std::vector<std::string> integral_texts;
  bool auto_masters = false, check = true;
  int threads = 2;
  int progress = isatty(STDERR_FILENO) ? 1 : 0;
  ReductionRequest req;
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
    std::string name = arg.substr(0, arg.find('='));
    if (name == "-h" || name == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (name == "--family") family_spec = value();
    else if (name == "--method") method = value();
    else if (name == "--prime") prime_text = value();
    else if (name == "--point") point_spec = value();
    else if (name == "--masters") masters_file = value();
    else if (name == "--auto-masters") auto_masters = true;
    else if (name == "--integrals") {
      for (auto& s : integral_lines(read_text(value(), "integrals"))) integral_texts.push_back(s);
    } else if (name == "--format") format = value();
    else if (name == "--output") output = value();
    else if (name == "--r-extra") req.options.r_extra = parse_int(name, value());
    else if (name == "--s-extra") req.options.s_extra = parse_int(name, value());
    else if (name == "--no-check") check = false;
    else if (name == "--threads") threads = parse_int(name, value());
    else if (name == "--progress") progress = 1;
    else if (name == "--quiet") progress = 0;
    else if (arg.rfind("--", 0) == 0) throw BadInput("unknown option " + arg + " (see --help)");
    else integral_texts.push_back(arg);
  }
  if (method == "learned")
    throw BadInput("--method learned needs a trained policy, which this build does not have yet; use --method laporta");
  if (method != "laporta") throw BadInput("unknown method '" + method + "' (laporta, learned)");
  const OutputFormat fmt = parse_output_format(format);

  FamilyDef family = load_family(family_spec);
  req.prime = prime_text.empty() ? kDefaultPrime : n_parse_prime(prime_text);
  req.point = resolve_point(family, point_spec);
  req.check = check;
  req.threads = threads;
  if (!masters_file.empty()) {
    for (auto& s : integral_lines(read_text(masters_file, "masters"))) req.preferred.push_back(parse_family_integral(family, s));
  } else if (!auto_masters) {
    req.preferred = family.masters;
  }
  for (auto& s : integral_texts) req.targets.push_back(parse_family_integral(family, s));
  auto t0 = std::chrono::steady_clock::now();
  if (progress)
    req.options.progress = [t0](const std::string& msg) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "sailir-reduce [%7.1fs] %s\n", s, msg.c_str());
    };
  ReductionResult result = reduce_checked(family, req);
  for (auto& w : result.warnings) std::fprintf(stderr, "sailir-reduce: warning: %s\n", w.c_str());
  write_output(output, write_result(family, result, fmt, method));
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
    return fail("error", e, kExitBadInput);
  } catch (const sailir::FamilyFileError& e) {
    return fail("error", e, kExitBadInput);
  } catch (const std::invalid_argument& e) {
    return fail("error", e, kExitBadInput);
  } catch (const std::domain_error& e) {  // the point is impossible modulo the prime
    return fail("error", e, kExitBadInput);
  } catch (const sailir::UnreducedError& e) {
    return fail("error", e, kExitNotReduced);
  } catch (const std::exception& e) {
    return fail("internal error", e, kExitInternal);
  }
}
