// A finished learned reduction as data: for every job, the integral and the steps that solved it
// (or that Laporta did), in the order the jobs were substituted. Replaying it at another prime
// or numeric point needs no policy and costs only the arithmetic: the floor of the reduction.
#pragma once

#include <string>
#include <vector>

#include "family/family_file.hpp"
#include "search/beam_search.hpp"

namespace sailir {

struct PathJob {
  Integral integral;
  bool laporta = false;          // a Laporta fallback: replayed by the Laporta reducer
  std::vector<PathStep> steps;
  // The earlier job (index into ReductionPath::jobs) whose final state, table included, this one
  // continued; -1: started from the single integral. Each job is continued at most once.
  long after = -1;
};

struct ReductionPath {
  std::string family, family_hash;
  std::vector<Integral> masters;
  std::vector<Integral> targets;
  std::vector<PathJob> jobs;     // in substitution order

  // For each job, the job that continues it (-1: none). Throws std::invalid_argument when a job
  // continues a later job, a Laporta job, or one that another job continues already.
  std::vector<long> continued_by() const;

  std::string to_text(int n) const;
  // Throws std::invalid_argument (one line, with the line number) on a malformed file.
  static ReductionPath parse(std::string_view text, const FamilyDef& family);
};

}  // namespace sailir
