#include "recording/lane_program.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "family/point.hpp"
#include "identities/identity_set.hpp"

namespace sailir {

namespace {

// First-fit storage over one lane's tail entries: free intervals kept by offset (to merge
// neighbours) and by size (to find a fit).
class SlotAllocator {
 public:
  std::uint32_t take(std::uint32_t size) {
    auto fit = by_size_.lower_bound(size);
    if (fit == by_size_.end()) {
      const std::uint32_t at = top_;
      top_ += size;
      return at;
    }
    const auto [have, at] = *fit;
    by_size_.erase(fit);
    by_offset_.erase(at);
    if (have > size) insert(at + size, have - size);
    return at;
  }
  void give(std::uint32_t at, std::uint32_t size) {
    if (size == 0) return;
    auto next = by_offset_.find(at + size);
    if (next != by_offset_.end()) {
      size += next->second;
      erase(next);
    }
    auto prev = by_offset_.lower_bound(at);
    if (prev != by_offset_.begin() && (--prev)->first + prev->second == at) {
      at = prev->first;
      size += prev->second;
      erase(prev);
    }
    insert(at, size);
  }
  std::uint32_t top() const { return top_; }

 private:
  void insert(std::uint32_t at, std::uint32_t size) {
    by_offset_.emplace(at, size);
    by_size_.emplace(size, at);
  }
  void erase(std::map<std::uint32_t, std::uint32_t>::iterator it) {
    auto [b, e] = by_size_.equal_range(it->second);
    for (; b != e; ++b)
      if (b->second == it->first) {
        by_size_.erase(b);
        break;
      }
    by_offset_.erase(it);
  }
  std::map<std::uint32_t, std::uint32_t> by_offset_;
  std::multimap<std::uint32_t, std::uint32_t> by_size_;
  std::uint32_t top_ = 0;
};

// Where each row's normalized tail lives. A row is needed until the last row that uses it (rows
// used by targets, until the end), so a later row may take its space: a row's storage is handed
// on before the row that used it last is stored, which is safe because storing comes after
// that row's elimination.
std::vector<std::uint32_t> assign_tail_slots(const Recording& rec, std::uint32_t& slots) {
  const std::size_t R = rec.rows();
  std::vector<std::size_t> last(R, 0);
  for (std::size_t r = 0; r < R; ++r) {
    last[r] = r + 1;  // unused rows go as soon as they are stored
    for (std::uint32_t j = rec.used_begin[r]; j < rec.used_begin[r + 1]; ++j) last[rec.used[j]] = r;
  }
  for (std::uint32_t u : rec.target_used) last[u] = R;
  std::vector<std::vector<std::uint32_t>> freed_at(R + 1);
  for (std::size_t u = 0; u < R; ++u) freed_at[last[u]].push_back(static_cast<std::uint32_t>(u));
  std::vector<std::uint32_t> slot(R, 0);
  SlotAllocator alloc;
  auto size_of = [&](std::uint32_t r) { return rec.tail_begin[r + 1] - rec.tail_begin[r]; };
  for (std::size_t r = 0; r < R; ++r) {
    for (std::uint32_t u : freed_at[r]) alloc.give(slot[u], size_of(u));
    slot[r] = alloc.take(size_of(static_cast<std::uint32_t>(r)));
  }
  slots = alloc.top();
  return slot;
}

}  // namespace

std::optional<LaneProgram> compile_lanes(const FamilyDef& family, const Recording& rec) {
  const nmod_t mod{rec.prime};
  const IdentitySet ids(family, point_in_field(rec.point, mod), mod);
  std::vector<u64> c0, lin;
  if (!ids.affine_terms(c0, lin)) return std::nullopt;
  LaneProgram prog;
  prog.rec = &rec;
  prog.n = static_cast<std::uint32_t>(rec.n);
  prog.affine_terms = static_cast<std::uint32_t>(c0.size());
  std::vector<std::uint32_t> first_term(static_cast<std::size_t>(ids.size()) + 1, 0);
  for (int t = 0; t < ids.size(); ++t) first_term[t + 1] = first_term[t] + static_cast<std::uint32_t>(ids.terms(t));
  int lo = 0, hi = 0;
  for (const Integral& s : rec.row_seed)
    for (int i = 0; i < rec.n; ++i) {
      lo = std::min<int>(lo, s.a[i]);
      hi = std::max<int>(hi, s.a[i]);
    }
  prog.min_power = lo;
  prog.powers = static_cast<std::uint32_t>(hi - lo + 1);
  prog.term_affine.resize(rec.term_k.size());
  prog.row_power.resize(rec.rows() * prog.n);
  for (std::size_t r = 0; r < rec.rows(); ++r) {
    for (std::uint32_t j = rec.term_begin[r]; j < rec.term_begin[r + 1]; ++j)
      prog.term_affine[j] = first_term[rec.row_template[r]] + rec.term_k[j];
    for (std::uint32_t i = 0; i < prog.n; ++i)
      prog.row_power[r * prog.n + i] = static_cast<std::uint8_t>(rec.row_seed[r].a[i] - lo);
  }
  prog.tail_slot = assign_tail_slots(rec, prog.tail_slots);
  return prog;
}

std::size_t LaneProgram::lane_bytes() const {
  const std::size_t words = affine_entries() + powers + columns() + tail_slots + outputs();
  return words * sizeof(std::uint64_t) + sizeof(nmod_mont_t) + 1;
}

LaneProgramView LaneProgram::view() const {
  LaneProgramView v;
  v.rows = static_cast<std::uint32_t>(rec->rows());
  v.targets = static_cast<std::uint32_t>(rec->targets.size());
  v.masters = static_cast<std::uint32_t>(rec->masters.size());
  v.n = n;
  v.term_begin = rec->term_begin.data();
  v.term_affine = term_affine.data();
  v.term_col = rec->term_col.data();
  v.row_power = row_power.data();
  v.row_lead = rec->row_lead.data();
  v.used_begin = rec->used_begin.data();
  v.used = rec->used.data();
  v.tail_begin = rec->tail_begin.data();
  v.tail_col = rec->tail_col.data();
  v.tail_slot = tail_slot.data();
  v.target_col = rec->targets.data();
  v.target_used_begin = rec->target_used_begin.data();
  v.target_used = rec->target_used.data();
  v.master_col = rec->masters.data();
  v.target_zero = rec->target_zero.data();
  return v;
}

bool pack_lane(const FamilyDef& family, const LaneProgram& prog, u64 prime, const std::vector<u64>& point,
               const LaneInputsView& in, std::uint32_t lane) {
  const nmod_t mod{prime};
  const nmod_mont_t m = nmod_mont_init(prime);
  in.mod[lane] = m;
  std::vector<u64> c0, lin;
  try {
    const IdentitySet ids(family, point, mod);
    if (!ids.affine_terms(c0, lin) || c0.size() != prog.affine_terms) return false;
  } catch (const std::domain_error&) {
    return false;
  }
  const std::uint64_t L = in.lanes, stride = prog.n + 1;
  for (std::uint64_t t = 0; t < prog.affine_terms; ++t) {
    in.affine[(t * stride) * L + lane] = nmod_mont_from(c0[t], m);
    for (std::uint64_t i = 0; i < prog.n; ++i)
      in.affine[(t * stride + 1 + i) * L + lane] = nmod_mont_from(lin[t * prog.n + i], m);
  }
  for (std::uint64_t k = 0; k < prog.powers; ++k)
    in.powers[k * L + lane] = nmod_mont_from(nmod_set_si(prog.min_power + static_cast<std::int64_t>(k), mod), m);
  return true;
}

LaneReplayer::LaneReplayer(const FamilyDef& family, const LaneProgram& prog)
    : family_(family),
      prog_(prog),
      affine_(prog.affine_entries()),
      powers_(prog.powers),
      acc_(prog.columns(), 0),
      tail_(prog.tail_slots),
      out_(prog.outputs()) {}

bool LaneReplayer::run(u64 prime, const std::vector<u64>& point, std::vector<u64>& out) {
  const LaneInputsView in{1, &mod_, affine_.data(), powers_.data()};
  if (!pack_lane(family_, prog_, prime, point, in, 0)) return false;
  const LaneData d{1, &mod_, affine_.data(), powers_.data(), acc_.data(), tail_.data(), out_.data(), &bad_};
  replay_lane(prog_.view(), d, 0);
  if (bad_) {
    std::fill(acc_.begin(), acc_.end(), 0);  // a bad lane may leave entries behind
    return false;
  }
  out.assign(out_.begin(), out_.end());
  return true;
}

}  // namespace sailir
