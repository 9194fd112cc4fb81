#include "scheduler/job_store.hpp"

#include <sqlite3.h>

#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "family/family_file.hpp"

namespace sailir {

namespace {

constexpr const char* kFormat = "sailir-checkpoint 1";

// RAII for one prepared statement.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Statement() { sqlite3_finalize(st_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  void bind(int i, long long v) { sqlite3_bind_int64(st_, i, v); }
  void bind(int i, const std::string& v) { sqlite3_bind_blob(st_, i, v.data(), int(v.size()), SQLITE_TRANSIENT); }
  bool step() {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail("step");
    return false;
  }
  long long integer(int i) { return sqlite3_column_int64(st_, i); }
  std::string blob(int i) {
    const void* p = sqlite3_column_blob(st_, i);
    return p ? std::string(static_cast<const char*>(p), std::size_t(sqlite3_column_bytes(st_, i))) : std::string();
  }

 private:
  [[noreturn]] void fail(const char* what) {
    throw CheckpointError(std::string("checkpoint database error (") + what + "): " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

// Flat little-endian records: an integral is its 16 signed powers.
template <class T>
void put_raw(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
T get_raw(const std::string& in, std::size_t& at) {
  if (at + sizeof(T) > in.size()) throw CheckpointError("checkpoint is corrupt: a record is truncated");
  T v;
  std::memcpy(&v, in.data() + at, sizeof v);
  at += sizeof v;
  return v;
}

std::string encode_value(const Expression& e) {
  std::string out;
  for (auto& [x, c] : e.terms()) put_raw(out, x), put_raw(out, c);
  return out;
}

Expression decode_value(const std::string& in, nmod_t m) {
  std::vector<Expression::Entry> terms;
  for (std::size_t at = 0; at < in.size();) {
    const auto x = get_raw<Integral>(in, at);
    const auto c = get_raw<u64>(in, at);
    if (c == 0 || c >= m.n) throw CheckpointError("checkpoint is corrupt: a coefficient is out of range");
    terms.emplace_back(x, c);
  }
  return Expression::from_terms(terms, m);
}

std::string encode_steps(const std::vector<PathStep>& steps) {
  std::string out;
  for (const PathStep& s : steps) {
    put_raw(out, s.target), put_raw(out, s.action.seed);
    put_raw(out, static_cast<std::int32_t>(s.action.op)), put_raw(out, static_cast<std::int8_t>(s.action.direct));
  }
  return out;
}

std::vector<PathStep> decode_steps(const std::string& in) {
  std::vector<PathStep> steps;
  for (std::size_t at = 0; at < in.size();) {
    PathStep s;
    s.target = get_raw<Integral>(in, at);
    s.action.seed = get_raw<Integral>(in, at);
    s.action.op = get_raw<std::int32_t>(in, at);
    s.action.direct = get_raw<std::int8_t>(in, at) != 0;
    steps.push_back(s);
  }
  return steps;
}

std::string integral_key(const Integral& x) {
  std::string k;
  put_raw(k, x);
  return k;
}

}  // namespace

JobStore::JobStore(const std::string& dir, const std::string& fingerprint, nmod_t m) : dir_(dir), mod_(m) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = (std::filesystem::path(dir) / "jobs.sqlite").string();
  if (ec || !std::filesystem::is_directory(dir))
    throw CheckpointError("cannot create checkpoint directory " + dir + (ec ? ": " + ec.message() : ""));
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw CheckpointError("cannot open checkpoint " + path + ": " + why);
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");  // with WAL: a killed process loses nothing committed
    exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    exec("CREATE TABLE IF NOT EXISTS jobs(seq INTEGER PRIMARY KEY, integral BLOB UNIQUE NOT NULL, "
         "after INTEGER NOT NULL, laporta INTEGER NOT NULL, steps BLOB NOT NULL, value BLOB NOT NULL)");
    exec("BEGIN IMMEDIATE");
    Statement get(db_, "SELECT key, value FROM meta");
    std::unordered_map<std::string, std::string> meta;
    while (get.step()) meta[get.blob(0)] = get.blob(1);
    if (meta.empty()) {
      for (auto [k, v] : {std::pair<std::string, std::string>{"format", kFormat}, {"problem", fingerprint}}) {
        Statement ins(db_, "INSERT INTO meta(key, value) VALUES (?1, ?2)");
        ins.bind(1, k), ins.bind(2, v);
        ins.step();
      }
    }
    exec("COMMIT");
    if (!meta.empty() && meta["format"] != kFormat)
      throw CheckpointError("checkpoint " + dir + " is not a sailir checkpoint of this version");
    if (!meta.empty() && meta["problem"] != fingerprint)
      throw CheckpointError("checkpoint " + dir + " was made for another problem (it holds " + meta["problem"] +
                            "; this run is " + fingerprint + "); use another directory, or delete it to start afresh");
  } catch (const CheckpointError& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    const std::string what = e.what();
    if (what.find("file is not a database") != std::string::npos || what.find("malformed") != std::string::npos)
      throw CheckpointError("checkpoint " + path + " is corrupt (" + what + ")");
    throw;
  }
}

JobStore::~JobStore() { sqlite3_close(db_); }

void JobStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw CheckpointError("checkpoint database error: " + why);
  }
}

std::vector<StoredJob> JobStore::load_all() {
  std::lock_guard lock(mu_);
  Statement q(db_, "SELECT seq, integral, after, laporta, steps, value FROM jobs ORDER BY seq");
  std::vector<StoredJob> out;
  std::unordered_map<long long, long> renumbered;  // seq -> index in out
  while (q.step()) {
    const long long seq = q.integer(0), after = q.integer(2);
    if (after >= 0 && !renumbered.count(after)) continue;  // its predecessor was lost
    StoredJob j;
    std::size_t at = 0;
    const std::string key = q.blob(1);
    j.path.integral = get_raw<Integral>(key, at);
    j.path.after = after >= 0 ? renumbered.at(after) : -1;
    j.path.laporta = q.integer(3) != 0;
    j.path.steps = decode_steps(q.blob(4));
    j.value = decode_value(q.blob(5), mod_);
    renumbered[seq] = static_cast<long>(out.size());
    out.push_back(std::move(j));
  }
  return out;
}

void JobStore::put(long seq, const PathJob& job, const Expression& value) {
  const std::string key = integral_key(job.integral), steps = encode_steps(job.steps), val = encode_value(value);
  std::lock_guard lock(mu_);
  Statement ins(db_, "INSERT OR REPLACE INTO jobs(seq, integral, after, laporta, steps, value) VALUES (?1,?2,?3,?4,?5,?6)");
  ins.bind(1, seq), ins.bind(2, key), ins.bind(3, job.after), ins.bind(4, job.laporta ? 1 : 0);
  ins.bind(5, steps), ins.bind(6, val);
  ins.step();
}

std::optional<Expression> JobStore::value(const Integral& x) {
  std::lock_guard lock(mu_);
  Statement q(db_, "SELECT value FROM jobs WHERE integral = ?1");
  q.bind(1, integral_key(x));
  if (!q.step()) return std::nullopt;
  return decode_value(q.blob(0), mod_);
}

std::size_t JobStore::size() {
  std::lock_guard lock(mu_);
  Statement q(db_, "SELECT COUNT(*) FROM jobs");
  q.step();
  return static_cast<std::size_t>(q.integer(0));
}

std::string problem_fingerprint(const std::string& family_hash, u64 prime, const std::string& point,
                                const std::vector<std::string>& masters, const std::string& policy_hash,
                                const std::vector<std::string>& targets) {
  std::string all = "family " + family_hash + "; prime " + std::to_string(prime) + "; point " + point + "; masters";
  for (auto& m : masters) all += " " + m;
  all += "; policy " + policy_hash + "; targets";
  for (auto& t : targets) all += " " + t;
  // Readable where it differs most often, hashed where it is long.
  return "point " + point + ", prime " + std::to_string(prime) + ", problem " + fnv1a_hex(all);
}

TemporaryDirectory::TemporaryDirectory(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) throw CheckpointError("cannot create a temporary directory in " + tmpl);
  path_ = tmpl;
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace sailir
