#include "scheduler/reduction_path.hpp"

#include <sstream>
#include <stdexcept>

namespace sailir {

namespace {
constexpr const char* kMagic = "sailir-path 2";
constexpr const char* kMagicV1 = "sailir-path 1";  // no continued jobs; still read
}

std::vector<long> ReductionPath::continued_by() const {
  std::vector<long> by(jobs.size(), -1);
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const long a = jobs[j].after;
    if (a < 0) continue;
    if (a >= static_cast<long>(j) || jobs[a].laporta || by[a] >= 0)
      throw std::invalid_argument("job " + std::to_string(j) + " continues job " + std::to_string(a) +
                                  ", which is not an earlier policy job continued by no other");
    by[a] = static_cast<long>(j);
  }
  return by;
}

std::string ReductionPath::to_text(int n) const {
  std::ostringstream o;
  o << kMagic << "\nfamily " << family << " " << family_hash << "\nmasters " << masters.size() << "\n";
  for (const Integral& m : masters) o << format_integral(m, n) << "\n";
  o << "targets " << targets.size() << "\n";
  for (const Integral& t : targets) o << format_integral(t, n) << "\n";
  o << "jobs " << jobs.size() << "\n";
  for (const PathJob& j : jobs) {
    o << "job " << format_integral(j.integral, n) << (j.laporta ? " laporta " : " policy ") << j.steps.size();
    if (j.after >= 0) o << " after " << j.after;
    o << "\n";
    for (const PathStep& s : j.steps)
      o << "step " << format_integral(s.target, n) << " " << s.action.op << " " << format_integral(s.action.seed, n)
        << (s.action.direct ? " d" : " i") << "\n";
  }
  return o.str();
}

ReductionPath ReductionPath::parse(std::string_view text, const FamilyDef& family) {
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  auto fail = [&](const std::string& why) -> std::invalid_argument {
    return std::invalid_argument("reduction path, line " + std::to_string(lineno) + ": " + why);
  };
  auto next = [&]() -> std::string {
    if (!std::getline(in, line)) {
      ++lineno;
      throw fail("unexpected end of file");
    }
    ++lineno;
    return line;
  };
  auto integral = [&](const std::string& t) {
    try {
      return parse_family_integral(family, t);
    } catch (const std::invalid_argument& e) {
      throw fail(e.what());
    }
  };
  auto count = [&](std::istringstream& ls, const char* what) {
    long long k = -1;
    if (!(ls >> k) || k < 0 || k > 100'000'000) throw fail(std::string("bad ") + what + " count");
    return static_cast<std::size_t>(k);
  };
  ReductionPath p;
  if (next() != kMagic && line != kMagicV1)
    throw fail("not a sailir reduction path (expected '" + std::string(kMagic) + "')");
  {
    std::istringstream ls(next());
    std::string word;
    if (!(ls >> word >> p.family >> p.family_hash) || word != "family") throw fail("expected 'family NAME HASH'");
    if (p.family_hash != family.hash)
      throw fail("the path was made for family '" + p.family + "' (hash " + p.family_hash + "), not for '" + family.name +
                 "' (hash " + family.hash + ")");
  }
  auto list = [&](const char* head, std::vector<Integral>& out) {
    std::istringstream ls(next());
    std::string word;
    if (!(ls >> word) || word != head) throw fail(std::string("expected '") + head + " N'");
    std::size_t k = count(ls, head);
    for (std::size_t i = 0; i < k; ++i) out.push_back(integral(next()));
  };
  list("masters", p.masters);
  list("targets", p.targets);
  std::istringstream ls(next());
  std::string word;
  if (!(ls >> word) || word != "jobs") throw fail("expected 'jobs N'");
  const std::size_t njobs = count(ls, "jobs");
  for (std::size_t j = 0; j < njobs; ++j) {
    std::istringstream js(next());
    std::string head, x, kind;
    if (!(js >> head >> x >> kind) || head != "job" || (kind != "policy" && kind != "laporta"))
      throw fail("expected 'job I[...] policy|laporta STEPS [after K]'");
    PathJob job{integral(x), kind == "laporta", {}};
    const std::size_t nsteps = count(js, "step");
    if (std::string after; js >> after) {
      long k = -1;
      if (after != "after" || !(js >> k) || k < 0) throw fail("expected 'after K'");
      job.after = k;
    }
    for (std::size_t s = 0; s < nsteps; ++s) {
      std::istringstream ss(next());
      std::string h, target, seed, dir;
      int op = -1;
      if (!(ss >> h >> target >> op >> seed >> dir) || h != "step" || (dir != "d" && dir != "i"))
        throw fail("expected 'step TARGET OP SEED d|i'");
      if (op < 0 || op >= static_cast<int>(family.templates.size())) throw fail("identity " + std::to_string(op) + " does not exist");
      Integral at;  // a seed may carry a positive power on a numerator; only its terms must not
      try {
        at = parse_integral(seed, family.n);
      } catch (const std::invalid_argument& e) {
        throw fail(e.what());
      }
      job.steps.push_back(PathStep{integral(target), Action{op, at, dir == "d"}});
    }
    p.jobs.push_back(std::move(job));
  }
  try {
    p.continued_by();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("reduction path: ") + e.what());
  }
  return p;
}

}  // namespace sailir
