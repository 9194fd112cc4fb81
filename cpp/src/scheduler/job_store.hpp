// Finished jobs on disk: the learned reduction's checkpoint and the memo's overflow, in one
// SQLite database (WAL mode: a crash or kill -9 loses at most the jobs not yet committed, and
// each job commits as it finishes). A store belongs to one problem: its fingerprint (family,
// prime, point, masters, policy and targets) is written
// on creation, and a store with another fingerprint is refused.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "algebra/expression.hpp"
#include "scheduler/reduction_path.hpp"

struct sqlite3;

namespace sailir {

// An unusable store: unwritable, corrupt, or made for another problem. One line.
struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct StoredJob {
  PathJob path;      // path.after: the seq of the job it continued (-1: none)
  Expression value;  // the job's value at the store's prime and point
};

class JobStore {
 public:
  // Opens `dir`/jobs.sqlite, creating dir and the database if needed. `fingerprint` names the
  // problem; an existing store with another is refused (CheckpointError).
  JobStore(const std::string& dir, const std::string& fingerprint, nmod_t m);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  const std::string& dir() const { return dir_; }

  // Every finished job in the order it finished, renumbered 0, 1, ...; a job whose continued
  // job is missing (killed before it committed) is left out, with the jobs continuing it.
  std::vector<StoredJob> load_all();
  // Records job `seq` (its index among finished jobs). Thread-safe.
  void put(long seq, const PathJob& job, const Expression& value);
  // The value of a stored job (the memo's overflow reads it back). Thread-safe.
  std::optional<Expression> value(const Integral& x);
  std::size_t size();

 private:
  void exec(const char* sql);

  std::string dir_;
  nmod_t mod_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
};

// The fingerprint text of a learned reduction: what must match for a store to be resumed.
std::string problem_fingerprint(const std::string& family_hash, u64 prime, const std::string& point,
                                const std::vector<std::string>& masters, const std::string& policy_hash,
                                const std::vector<std::string>& targets);

// A fresh directory under the system's temporary directory, removed with everything in it.
class TemporaryDirectory {
 public:
  explicit TemporaryDirectory(const std::string& prefix);
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace sailir
