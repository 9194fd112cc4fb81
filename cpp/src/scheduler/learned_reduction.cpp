#include "scheduler/learned_reduction.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "device/policy_device.hpp"
#include "laporta/laporta.hpp"
#include "scheduler/job_store.hpp"
#include "scheduler/score_batcher.hpp"

namespace sailir {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Coefficients of a masters-only expression over ctx.masters().
std::vector<std::pair<int, u64>> over_masters(const FamilyContext& ctx, const Expression& e) {
  std::vector<std::pair<int, u64>> out;
  const auto& ms = ctx.masters();
  for (std::size_t k = 0; k < ms.size(); ++k)
    if (u64 c = e.coef(ms[k])) out.emplace_back(static_cast<int>(k), c);
  return out;
}

// Laporta for single integrals, shared by the workers (the reducer keeps its rules between calls).
class LaportaFallback {
 public:
  LaportaFallback(const FamilyDef& family, const ReductionRequest& req) : family_(family), req_(req) {}
  Expression reduce(const FamilyContext& ctx, const Integral& x) {
    std::lock_guard lock(mu_);
    if (!reducer_) reducer_ = std::make_unique<LaportaReducer>(family_, req_.point, ctx.modulus().n, req_.preferred);
    LaportaOptions opt = req_.options;
    opt.progress = nullptr;
    auto coefs = reducer_->reduce({x}, opt);
    std::vector<Expression::Entry> terms;
    for (auto [k, c] : coefs[0]) terms.emplace_back(reducer_->masters()[k], c);
    return Expression::from_terms(terms, ctx.modulus());
  }

 private:
  const FamilyDef& family_;
  const ReductionRequest& req_;
  std::mutex mu_;
  std::unique_ptr<LaportaReducer> reducer_;
};

// Queued jobs by order key (highest last), searchable by the key's leading word: a sector's jobs
// are one contiguous range.
struct JobOrder {
  using is_transparent = void;
  using Job = std::pair<OrderKey, Integral>;
  bool operator()(const Job& a, const Job& b) const {
    return a.first == b.first ? IntegralLess{}(a.second, b.second) : a.first < b.first;
  }
  bool operator()(const Job& a, std::uint64_t hi) const { return a.first.hi < hi; }
  bool operator()(std::uint64_t hi, const Job& b) const { return hi < b.first.hi; }
};
using JobQueue = std::set<std::pair<OrderKey, Integral>, JobOrder>;

// Worker threads run one-step jobs, highest integral first within the sector a worker carries a
// state for (see pick_locked); the memo cache keeps every finished job. The caller substitutes
// finished jobs into the targets' expressions (reduce_targets).
class JobScheduler {
 public:
  // `store` (may be null): finished jobs from an earlier run are taken from it, new ones written
  // to it as they finish.
  JobScheduler(const FamilyDef& family, const ReductionRequest& req, const FamilyContext& ctx, const Policy& policy,
               const LearnedOptions& opt, JobStore* store)
      : ctx_(ctx), policy_(policy), opt_(opt), fallback_(family, req), memo_meter_(new_meter(opt.memo_memory)),
        store_(store),
        scorer_(policy, opt.policy_device == Device::cuda ? Device::cuda : Device::cpu, 1),
        batcher_([this](const PolicyBatch& b, std::vector<float>& out) { scorer_.logits(b, out); }, scorer_.on_gpu()) {
    if (store_) resume();
    const int workers = std::max(1, req.threads);
    carried_.resize(static_cast<std::size_t>(workers));
    for (int i = 0; i < workers; ++i) meters_.push_back(new_meter(opt.memory_per_worker));
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { work(static_cast<std::size_t>(i)); });
  }
  ~JobScheduler() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Queues x unless it is cached, queued or running.
  void request(const Integral& x) {
    std::lock_guard lock(mu_);
    request_locked(x);
  }

  // The value of x (queued first if needed), waiting for its job; it stays in memory until
  // release(x). Throws UnreducedError when the job failed and no fallback was allowed, and
  // Interrupted once a stop was requested.
  const Expression& value(const Integral& x) {
    request(x);
    std::unique_lock lock(mu_);
    Entry& e = memo_.at(x);
    if (e.state == State::done) ++stats_.memo_hits;
    while (e.state != State::done && e.state != State::failed) {
      if (stop_requested()) throw Interrupted(interrupted_message());
      done_cv_.wait_for(lock, std::chrono::milliseconds(100));
      report_locked();
    }
    if (e.state == State::failed && stop_requested()) throw Interrupted(interrupted_message());
    if (e.state == State::failed) throw UnreducedError(e.failure);
    if (e.released) throw std::logic_error("job value needed again after its release");
    if (e.on_disk) {
      MeterScope memo(memo_meter_);
      e.value = store_->value(x).value();
      e.on_disk = false;
    }
    e.pinned = true;
    return e.value;
  }

  // x has been substituted for good: its value is no longer needed (its steps stay in the path).
  void release(const Integral& x) {
    std::lock_guard lock(mu_);
    Entry& e = memo_.at(x);
    e.value = Expression();
    e.released = true;
    e.pinned = false;
  }

  LearnedStats stats() {
    std::lock_guard lock(mu_);
    LearnedStats st = stats_;
    for (const MemoryMeter* m : meters_) st.worker_peak_bytes = std::max(st.worker_peak_bytes, m->high_water());
    st.memo_peak_bytes = memo_meter_->high_water();
    st.resumed_jobs = resumed_;
    st.spilled_values = spilled_;
    const ScoreBatchStats b = batcher_.stats();
    st.policy_passes = b.passes;
    st.policy_batch_max = b.largest;
    return st;
  }
  // Job values and the targets' expressions are charged here, not to the workers.
  MemoryMeter* memo_meter() const { return memo_meter_; }
  void set_remaining(std::size_t r) {
    std::lock_guard lock(mu_);
    remaining_ = r;
  }
  // Finished jobs in the order they finished.
  std::vector<PathJob> jobs() {
    std::lock_guard lock(mu_);
    std::vector<PathJob> out;
    for (const Integral& x : finished_) out.push_back(memo_.at(x).path);
    return out;
  }

 private:
  enum class State { queued, running, done, failed };
  struct Entry {
    State state = State::queued;
    Expression value;
    PathJob path;
    std::string failure;
    bool released = false;
    bool on_disk = false;  // the value is in the store only (the memo overflowed)
    bool pinned = false;   // handed out by value(): stays in memory until released
  };

  bool stop_requested() const { return opt_.stop && opt_.stop->load(); }
  std::string interrupted_message() const {
    const std::string done = std::to_string(finished_.size()) + " finished jobs";
    if (store_ && !temporary_store_)
      return "interrupted; " + done + " are saved in the checkpoint " + store_->dir() +
             ": rerun the same command to resume";
    return "interrupted; " + done + " are lost (run with --checkpoint DIR to be able to resume)";
  }

  // Finished jobs of an earlier run, in the order they finished: done, with their paths.
  void resume() {
    MeterScope memo(memo_meter_);
    for (StoredJob& j : store_->load_all()) {
      Entry& e = memo_[j.path.integral];
      e.state = State::done;
      e.value = std::move(j.value);
      e.path = std::move(j.path);
      finished_.push_back(e.path.integral);
      if (memo_meter_->bytes() > next_spill_at_) spill_locked();
    }
    resumed_ = finished_.size();
  }

  // Past the memo's budget, unpinned values leave memory for the store (a temporary one without
  // --checkpoint); value() reads them back.
  void spill_locked() {
    if (!store_) {
      temporary_.emplace(ctx_.modulus());
      store_ = &temporary_->store;
      temporary_store_ = true;
      for (std::size_t i = 0; i < finished_.size(); ++i) {
        const Entry& e = memo_.at(finished_[i]);
        if (!e.released) store_->put(static_cast<long>(i), e.path, e.value);
      }
    }
    for (const Integral& x : finished_) {
      Entry& e = memo_.at(x);
      if (e.released || e.on_disk || e.pinned) continue;
      e.value = Expression();
      e.on_disk = true;
      ++spilled_;
    }
    // What cannot leave (the targets' expressions, pinned values) does not make every job spill.
    const std::size_t quarter = memo_meter_->budget() / 4;
    next_spill_at_ = std::max(3 * quarter, memo_meter_->bytes() + quarter);
  }

  void request_locked(const Integral& x) {
    if (!memo_.try_emplace(x).second) return;
    queue_.emplace(ctx_.order().key(x), x);
    work_cv_.notify_one();
  }

  // The job worker `me` takes next: the highest queued job of the sector it carries a state for;
  // else the highest job of a sector no other worker carries; else the highest job. Two workers in
  // one sector would each eliminate the same integrals in their own tables, and jobs alternating
  // between sectors would throw away the carried states.
  JobQueue::iterator pick_locked(std::size_t me) {
    auto highest_in = [&](SectorId s) {
      auto it = queue_.lower_bound(LaportaOrder::sector_floor(s) + LaportaOrder::sector_span);
      return it == queue_.begin() || sector_of(std::prev(it)->second, ctx_.n()) != s ? queue_.end() : std::prev(it);
    };
    if (carried_[me])
      if (auto it = highest_in(*carried_[me]); it != queue_.end()) return it;
    for (auto it = queue_.end(); it != queue_.begin();) {
      const SectorId s = sector_of(std::prev(it)->second, ctx_.n());
      bool taken = false;
      for (std::size_t w = 0; w < carried_.size(); ++w) taken = taken || (w != me && carried_[w] == s);
      if (!taken) return std::prev(it);
      it = queue_.lower_bound(LaportaOrder::sector_floor(s));  // skip the rest of that sector
    }
    return std::prev(queue_.end());
  }

  void report_locked() {
    if (!opt_.progress) return;
    auto now = Clock::now();
    if (now - last_report_ < std::chrono::milliseconds(100)) return;
    last_report_ = now;
    LearnedProgress p;
    p.jobs_done = finished_.size();
    p.jobs_pending = queue_.size();
    p.jobs_running = running_;
    p.memo_hits = stats_.memo_hits;
    p.fallbacks = stats_.fallbacks;
    p.remaining = remaining_;
    p.phase = "search";
    opt_.progress(p);
  }

  // What a worker carries from one job to the next: the final state of its last job, which the
  // next job continues when it lies in the same sector. Jobs of one sector eliminate largely the
  // same integrals; continuing the table spares each job the elimination its predecessor did.
  static constexpr std::size_t kCarryTableTerms = 200'000, kCarryResolvedTerms = 300'000;
  struct Carry {
    std::optional<ReductionState> state;
    SectorId sector = 0;
    long job = -1;  // its index in finished_
  };

  // Between jobs, a worker keeps at most half its budget: it drops the cached resolutions, then
  // the carried state. Without a budget, fixed sizes bound what it keeps.
  void trim_carry(Carry& carry, const MemoryMeter& meter) {
    if (!carry.state) return;
    if (carry.state->table_terms() > kCarryTableTerms) carry.state.reset();
    else if (carry.state->resolved_terms() > kCarryResolvedTerms || meter.near_budget(0.5)) carry.state->drop_resolved();
    if (carry.state && meter.near_budget(0.5)) carry.state.reset();
    if (carry.state && carry.state->streaming() && !meter.near_budget(0.25)) carry.state->set_streaming(false);
  }

  void work(std::size_t me) {
    MeterScope scope(meters_[me]);
    Carry carry;
    std::unique_lock lock(mu_);
    for (;;) {
      work_cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stop_ || !queue_.empty(); });
      if (stop_ || stop_requested()) return;
      if (queue_.empty()) continue;
      auto next = pick_locked(me);
      Integral x = next->second;
      queue_.erase(next);
      carried_[me] = sector_of(x, ctx_.n());
      Entry& e = memo_.at(x);
      e.state = State::running;
      ++running_;
      lock.unlock();
      Entry result = solve(x, carry, *meters_[me]);
      trim_carry(carry, *meters_[me]);
      {
        MeterScope memo(memo_meter_);  // the value now belongs to the memo: copied onto its meter
        Expression kept = result.value;
        result.value = std::move(kept);
      }
      lock.lock();
      if (!carry.state) carried_[me].reset();
      --running_;
      e.value = std::move(result.value);
      e.path = std::move(result.path);
      e.failure = std::move(result.failure);
      e.state = result.state;
      if (e.state == State::done) {
        finished_.push_back(x);
        carry.job = carry.state ? static_cast<long>(finished_.size()) - 1 : -1;
        if (store_) store_->put(static_cast<long>(finished_.size()) - 1, e.path, e.value);
        // The entry and its steps stay to the end (they are the path): the memo's too.
        memo_meter_->charge(static_cast<std::int64_t>(sizeof(Entry) + 64 + e.path.steps.capacity() * sizeof(PathStep)));
        // The integrals of a job's value are jobs too (unless they cancel in the targets, which is
        // rare): queue them now, so that idle workers need not wait for the substitution.
        for (auto& [y, c] : e.value.terms())
          if (!ctx_.is_master(y)) request_locked(y);
        if (memo_meter_->bytes() > next_spill_at_) spill_locked();
      }
      done_cv_.notify_all();
    }
  }

  // One job: beam search, then wider seed regions, then Laporta. Never cached as solved unless solved.
  Entry solve(const Integral& x, Carry& carry, MemoryMeter& meter) {
    Entry out;
    out.path.integral = x;
    const SectorId sec = sector_of(x, ctx_.n());
    if (carry.state && carry.sector != sec) carry.state.reset();
    carry.sector = sec;
    // Carried states serve width 1 (a wider beam copies states, and the copies start afresh).
    std::optional<ReductionState>* warm = opt_.beam.width == 1 ? &carry.state : nullptr;
    long after = carry.state ? carry.job : -1;
    BeamOptions beam = opt_.beam;
    beam.meter = &meter;
    beam.stop = opt_.stop;
    beam.logits = [this](const PolicyBatch& b, std::vector<float>& out) { batcher_.logits(b, out); };
    LearnedStats local;
    ++local.jobs;
    std::string why;
    JobFailure last = JobFailure::none;
    for (int attempt = 0; attempt <= opt_.retries; ++attempt) {
      if (attempt > 0) {
        ++local.retries;
        if (last == JobFailure::step_limit) {
          // Still going when it was stopped: within a bounded region it ends, so give it room
          // (wider seeds would only add integrals to eliminate).
          beam.max_steps = static_cast<int>(std::min<long>(4L * beam.max_steps, 1L << 30));
        } else {
          // A search bounded like a Laporta system runs out of actions only when its seeds do
          // not reach far enough: widen them, as the Laporta reducer does.
          if (beam.seed_r_extra >= 0) ++beam.seed_r_extra;
          if (beam.seed_s_extra >= 0) ++beam.seed_s_extra;
        }
      }
      const bool warm_start = warm && warm->has_value();
      JobOutcome o = beam_reduce(ctx_, policy_, x, beam, warm);
      if (o.why == JobFailure::memory && warm_start) {
        // The budget's last resort before failing: drop the carried table and start afresh.
        ++local.memory_failures;
        local.beam_steps += o.stats.steps;
        after = -1;
        o = beam_reduce(ctx_, policy_, x, beam, warm);
      }
      local.beam_steps += o.stats.steps;
      local.streamed_steps += o.stats.streamed_steps;
      local.policy_calls += o.stats.policy_calls;
      local.states_expanded += o.stats.states_expanded;
      if (o.solved) {
        local.path_steps += o.steps.size();
        out.state = State::done;
        out.value = std::move(o.value);
        out.path.steps = std::move(o.steps);
        out.path.after = after;
        merge(local);
        return out;
      }
      ++local.failed_jobs;
      why = o.failure;
      last = o.why;
      after = -1;  // a failed search used up the carried state: retries start afresh
      if (o.why == JobFailure::interrupted) {
        out.state = State::failed;
        out.failure = "interrupted";
        merge(local);
        return out;
      }
      if (o.why == JobFailure::memory) {
        ++local.memory_failures;
        break;  // afresh it did not fit: wider seeds or more steps would only need more
      }
    }
    const std::string name = format_integral(x, ctx_.n());
    if (!opt_.fallback) {
      out.state = State::failed;
      out.failure = "the policy could not reduce " + name + " (" + why + ") and the Laporta fallback is off";
      merge(local);
      return out;
    }
    try {
      out.value = fallback_.reduce(ctx_, x);
      out.path.laporta = true;
      out.state = State::done;
      ++local.fallbacks;
    } catch (const std::exception& ex) {
      out.state = State::failed;
      out.failure = "neither the policy (" + why + ") nor Laporta could reduce " + name + ": " + ex.what();
    }
    merge(local);
    return out;
  }

  void merge(const LearnedStats& s) {
    std::lock_guard lock(mu_);
    stats_.jobs += s.jobs;
    stats_.failed_jobs += s.failed_jobs;
    stats_.retries += s.retries;
    stats_.fallbacks += s.fallbacks;
    stats_.beam_steps += s.beam_steps;
    stats_.policy_calls += s.policy_calls;
    stats_.states_expanded += s.states_expanded;
    stats_.path_steps += s.path_steps;
    stats_.streamed_steps += s.streamed_steps;
    stats_.memory_failures += s.memory_failures;
  }

  const FamilyContext& ctx_;
  const Policy& policy_;
  const LearnedOptions& opt_;
  LaportaFallback fallback_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  bool stop_ = false;
  std::unordered_map<Integral, Entry, IntegralHash> memo_;  // node-based: entries stay put
  JobQueue queue_;
  std::vector<std::optional<SectorId>> carried_;  // per worker: the sector of its job or carried state
  std::vector<Integral> finished_;
  std::size_t running_ = 0, remaining_ = 0;
  LearnedStats stats_;
  Clock::time_point last_report_{};
  std::vector<MemoryMeter*> meters_;  // per worker
  MemoryMeter* memo_meter_;
  JobStore* store_;  // the checkpoint, or the memo's temporary overflow, or null
  PolicyScorer scorer_;  // the CPU runtime, or the GPU under --device cuda
  ScoreBatcher batcher_;
  struct TemporaryStore {
    TemporaryDirectory dir;
    JobStore store;
    explicit TemporaryStore(nmod_t m) : dir("sailir-memo"), store(dir.path(), "temporary memo", m) {}
  };
  std::optional<TemporaryStore> temporary_;
  bool temporary_store_ = false;
  std::size_t resumed_ = 0, spilled_ = 0;
  std::size_t next_spill_at_ = opt_.memo_memory ? opt_.memo_memory / 4 * 3 : SIZE_MAX;
  std::vector<std::thread> threads_;
};

// Substitutes job values into the targets' expressions, the highest non-master of all of them
// first, until only masters remain. `value(x)` gives the job value of x; `want(e)` announces the
// integrals e will need, so that workers can run ahead; `release(x)` says that x is done with:
// every job value holds only integrals below its own, so x never comes back.
template <class Value, class Want, class Release>
std::vector<std::vector<std::pair<int, u64>>> substitute(const FamilyContext& ctx, const std::vector<Integral>& targets,
                                                         Value&& value, Want&& want, Release&& release) {
  const nmod_t m = ctx.modulus();
  std::vector<Expression> exprs;
  for (const Integral& t : targets) {
    exprs.push_back(ctx.is_zero(t) ? Expression() : Expression::single(t));  // scaleless: no job
    want(exprs.back());
  }
  for (;;) {
    std::optional<Integral> x;
    OrderKey top;
    for (const Expression& e : exprs)
      if (auto h = highest_non_master(ctx, e)) {
        OrderKey k = ctx.order().key(*h);
        if (!x || top < k) x = h, top = k;
      }
    if (!x) break;
    const Expression& v = value(*x);
    for (Expression& e : exprs)
      if (u64 c = e.take(*x)) {
        e.add_scaled(v, c, m);
        want(e);
      }
    release(*x);
  }
  std::vector<std::vector<std::pair<int, u64>>> out;
  for (const Expression& e : exprs) out.push_back(over_masters(ctx, e));
  return out;
}

// What a checkpoint must have been made for: the values of jobs depend on the family, prime,
// point and masters; their paths on the policy; the targets name the problem.
std::string fingerprint(const FamilyContext& ctx, const ReductionRequest& req, const Policy& policy) {
  std::vector<std::string> masters, targets;
  for (const Integral& m : ctx.masters()) masters.push_back(format_integral(m, ctx.n()));
  for (const Integral& t : req.targets) targets.push_back(format_integral(t, ctx.n()));
  return problem_fingerprint(ctx.family_hash(), req.prime, format_point(req.point), masters, policy.content_hash(),
                             targets);
}

// The run's peak resident memory, bounded before it starts: what the process holds now (code,
// family, identities, policy: the fixed base), each worker's budget and the memo's. The search
// keeps to it; the check prime's replay and --verify come after it, with their own memory.
std::size_t predict_peak(const ReductionRequest& req, const LearnedOptions& opt) {
  // Beside what is resident now: beam-step scratch (candidate lists, policy batches, one per
  // worker) and the allocator's overhead, which no meter counts.
  constexpr std::size_t kUnmetered = std::size_t{16} << 20;
  const std::size_t base = resident_bytes() + kUnmetered, workers = std::max(1, req.threads);
  const std::size_t predicted = base + workers * opt.memory_per_worker + opt.memo_memory;
  if (opt.progress && opt.memory_per_worker && opt.memo_memory) {
    LearnedProgress p;
    p.phase = "memory: peak at most " + std::to_string(workers) + " x " + format_size(opt.memory_per_worker) +
              " (workers) + " + format_size(opt.memo_memory) + " (memo) + " + format_size(base) + " (base) = " +
              format_size(predicted);
    opt.progress(p);
  }
  return opt.memory_per_worker && opt.memo_memory ? predicted : 0;
}

ReductionResult base_result(const FamilyContext& ctx, const ReductionRequest& req) {
  ReductionResult r;
  r.prime = ctx.modulus().n;
  r.point = req.point;
  r.masters = ctx.masters();
  r.targets = req.targets;
  return r;
}

}  // namespace

ReplayResult replay_path(const FamilyDef& family, const NumericPoint& point, u64 prime, const ReductionPath& path,
                         int threads) {
  auto t0 = Clock::now();
  ReplayResult out;
  FamilyContext ctx(family, point, prime, path.masters);
  const int n = family.n;
  if (ctx.masters() != path.masters)
    throw VerificationError("the master basis at prime " + std::to_string(prime) + " differs from the path's (" +
                            std::to_string(ctx.masters().size()) + " instead of " + std::to_string(path.masters.size()) +
                            " masters)");
  ReductionRequest req;
  req.point = point;
  req.prime = prime;
  req.preferred = path.masters;
  LaportaFallback laporta(family, req);
  // Chains of jobs (each continuing the state of the one before) are independent given the path:
  // replay them on `threads` threads.
  std::vector<long> continued_by, heads;
  try {
    continued_by = path.continued_by();
  } catch (const std::invalid_argument& e) {
    throw VerificationError(std::string("the path's chains of jobs are broken: ") + e.what());
  }
  for (std::size_t j = 0; j < path.jobs.size(); ++j)
    if (path.jobs[j].after < 0) heads.push_back(static_cast<long>(j));
  std::vector<Expression> values(path.jobs.size());
  std::vector<std::string> errors(path.jobs.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t h; (h = next++) < heads.size();) {
      std::optional<ReductionState> carried;
      for (long j = heads[h]; j >= 0; j = continued_by[j]) {
        const PathJob& job = path.jobs[j];
        try {
          if (job.laporta) values[j] = laporta.reduce(ctx, job.integral);
          else if (!replay_job(ctx, job.integral, job.steps, values[j], errors[j], &carried)) break;
        } catch (const std::exception& e) {
          errors[j] = e.what();
          break;
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  std::unordered_map<Integral, std::size_t, IntegralHash> index;
  for (std::size_t j = 0; j < path.jobs.size(); ++j) {
    if (!errors[j].empty())
      throw VerificationError("replay at prime " + std::to_string(prime) + " failed: " + errors[j]);
    index[path.jobs[j].integral] = j;
  }
  out.result = base_result(ctx, req);
  out.result.targets = path.targets;
  out.result.coefficients = substitute(
      ctx, path.targets,
      [&](const Integral& x) -> const Expression& {
        auto it = index.find(x);
        if (it == index.end())
          throw VerificationError("replay at prime " + std::to_string(prime) + " needs " + format_integral(x, n) +
                                  ", which the path does not reduce (a coefficient vanished at the first prime)");
        return values[it->second];
      },
      [](const Expression&) {}, [&](const Integral& x) { values[index.at(x)] = Expression(); });
  out.seconds = since(t0);
  return out;
}

LearnedResult reduce_learned(const FamilyDef& family, const ReductionRequest& req, const Policy& policy,
                             const LearnedOptions& opt) {
  auto t0 = Clock::now();
  require_generic_point(family, req.point);
  FamilyContext ctx(family, req.point, req.prime, req.preferred);
  policy.check_compatible(ctx);
  LearnedResult out;
  const std::size_t predicted = predict_peak(req, opt);
  out.result = base_result(ctx, req);
  {
    std::unique_ptr<JobStore> store;
    if (!opt.checkpoint.empty()) store = std::make_unique<JobStore>(opt.checkpoint, fingerprint(ctx, req, policy), ctx.modulus());
    JobScheduler jobs(family, req, ctx, policy, opt, store.get());
    MeterScope memo(jobs.memo_meter());
    out.result.coefficients = substitute(
        ctx, req.targets, [&](const Integral& x) -> const Expression& { return jobs.value(x); },
        [&](const Expression& e) {
          std::size_t left = 0;
          for (auto& [x, c] : e.terms())
            if (!ctx.is_master(x)) jobs.request(x), ++left;
          jobs.set_remaining(left);
        },
        [&](const Integral& x) { jobs.release(x); });
    out.stats = jobs.stats();
    out.stats.predicted_peak_bytes = predicted;
    out.stats.search_peak_bytes = peak_resident_bytes();  // before the replay and --verify
    out.path.jobs = jobs.jobs();
  }
  out.stats.search_seconds = since(t0);
  out.path.family = family.name;
  out.path.family_hash = family.hash;
  out.path.masters = ctx.masters();
  out.path.targets = req.targets;
  if (out.stats.fallbacks)
    out.result.warnings.push_back(std::to_string(out.stats.fallbacks) + " job(s) were reduced by the Laporta fallback");

  if (req.check) {  // replay at a second prime: accidental zeros at the first show up here
    if (opt.progress) opt.progress(LearnedProgress{.phase = "replay"});
    const u64 p2 = next_check_prime(req.prime, 0);
    try {
      ReplayResult rep = replay_path(family, req.point, p2, out.path, std::max(1, req.threads));
      out.stats.replay_seconds = rep.seconds;
      out.result.check_prime = p2;
      auto acc = zeros_missing(out.result, rep.result, family.n);
      out.result.warnings.insert(out.result.warnings.end(), acc.begin(), acc.end());
    } catch (const VerificationError& e) {
      out.result.warnings.push_back(std::string("check at a second prime: ") + e.what());
    }
  }
  if (opt.verify) {
    if (opt.progress) opt.progress(LearnedProgress{.phase = "verify"});
    auto tv = Clock::now();
    LaportaReducer laporta(family, req.point, req.prime, req.preferred);
    LaportaOptions lo = req.options;
    lo.progress = nullptr;
    auto ref = laporta.reduce(req.targets, lo);
    out.verified = laporta.masters() == out.result.masters && ref == out.result.coefficients;
    if (!out.verified) {
      for (std::size_t t = 0; t < req.targets.size(); ++t)
        if (ref[t] != out.result.coefficients[t]) {
          out.verify_error = "the coefficients of " + format_integral(req.targets[t], family.n) +
                             " differ from the Laporta reducer's";
          break;
        }
      if (out.verify_error.empty()) out.verify_error = "the master basis differs from the Laporta reducer's";
    }
    out.stats.verify_seconds = since(tv);
  }
  out.result.seconds = since(t0);
  return out;
}

ReductionResult learned_output(const LearnedResult& learned, bool verify_requested) {
  ReductionResult r = learned.result;
  const LearnedStats& st = learned.stats;
  r.method_stats = {{"jobs", double(st.jobs)},
                    {"memo_hits", double(st.memo_hits)},
                    {"failed_jobs", double(st.failed_jobs)},
                    {"retries", double(st.retries)},
                    {"fallbacks", double(st.fallbacks)},
                    {"beam_steps", double(st.beam_steps)},
                    {"policy_calls", double(st.policy_calls)},
                    {"policy_passes", double(st.policy_passes)},
                    {"policy_batch_max", double(st.policy_batch_max)},
                    {"states_expanded", double(st.states_expanded)},
                    {"path_steps", double(st.path_steps)},
                    {"worker_peak_mb", double(st.worker_peak_bytes) / (1 << 20)},
                    {"memo_peak_mb", double(st.memo_peak_bytes) / (1 << 20)},
                    {"streamed_steps", double(st.streamed_steps)},
                    {"memory_failures", double(st.memory_failures)},
                    {"resumed_jobs", double(st.resumed_jobs)},
                    {"predicted_peak_mb", double(st.predicted_peak_bytes) / (1 << 20)},
                    {"search_peak_rss_mb", double(st.search_peak_bytes) / (1 << 20)},
                    {"spilled_values", double(st.spilled_values)},
                    {"search_seconds", st.search_seconds},
                    {"replay_seconds", st.replay_seconds},
                    {"verify_seconds", st.verify_seconds}};
  if (verify_requested) r.verified = learned.verified;
  return r;
}

}  // namespace sailir
