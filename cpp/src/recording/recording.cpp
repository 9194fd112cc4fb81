#include "recording/recording.hpp"

#include <charconv>
#include <sstream>

namespace sailir {

namespace {

constexpr std::string_view kMagic = "sailir-recording 2";
constexpr std::string_view kMagicV1 = "sailir-recording 1";  // read: no user-targets line

void put(std::string& o, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  o.append(buf, end);
}

void put_list(std::string& o, const std::vector<std::uint32_t>& v, std::size_t b, std::size_t e) {
  for (std::size_t i = b; i < e; ++i) {
    if (i > b) o += ' ';
    put(o, v[i]);
  }
}

// A cursor over the file's lines; every failure names the line.
class Lines {
 public:
  explicit Lines(std::string_view text) : text_(text) {}
  std::string_view next() {
    if (pos_ >= text_.size()) fail("unexpected end of file");
    auto end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++number_;
    return line;
  }
  // The rest of a line that starts with `key ` (or is `key`).
  std::string_view field(std::string_view key) {
    std::string_view line = next();
    if (line.substr(0, key.size()) != key || (line.size() > key.size() && line[key.size()] != ' '))
      fail("expected '" + std::string(key) + "'");
    return line.size() > key.size() ? line.substr(key.size() + 1) : std::string_view{};
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw RecordingFileError("recording line " + std::to_string(number_) + ": " + what);
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  int number_ = 0;
};

// Unsigned integers separated by spaces, each below `limit`.
void read_numbers(const Lines& in, std::string_view s, std::uint64_t limit, std::vector<std::uint32_t>& out) {
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    if (*p == ' ') {
      ++p;
      continue;
    }
    std::uint64_t v = 0;
    auto [q, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || v >= limit) in.fail("bad number");
    out.push_back(static_cast<std::uint32_t>(v));
    p = q;
  }
}

std::uint64_t read_count(const Lines& in, std::string_view s, std::uint64_t limit = 1u << 31) {
  std::vector<std::uint32_t> v;
  read_numbers(in, s, limit, v);
  if (v.size() != 1) in.fail("expected one number");
  return v[0];
}

void write_header(const Recording& r, std::string& o) {
  o += kMagic;
  o += "\nfamily " + r.family + " " + r.family_hash + "\nmethod " + r.method + "\nprime ";
  put(o, r.prime);
  o += "\npoint " + format_point(r.point) + "\ncolumns ";
  put(o, r.columns.size());
  o += '\n';
  for (const Integral& x : r.columns) o += format_integral(x, r.n) + "\n";
  o += "masters ";
  put_list(o, r.masters, 0, r.masters.size());
  o += "\ntargets ";
  put_list(o, r.targets, 0, r.targets.size());
  o += "\nzero ";
  for (std::size_t t = 0; t < r.target_zero.size(); ++t) o += t ? (r.target_zero[t] ? " 1" : " 0") : (r.target_zero[t] ? "1" : "0");
  o += "\nuser-targets ";
  put(o, r.user_targets);
  o += '\n';
}

void write_rows(const Recording& r, std::string& o) {
  o += "rows ";
  put(o, r.rows());
  o += '\n';
  for (std::size_t i = 0; i < r.rows(); ++i) {
    put(o, static_cast<std::uint64_t>(r.row_template[i]));
    o += ' ';
    for (int k = 0; k < r.n; ++k) o += (k ? "," : "") + std::to_string(r.row_seed[i].a[k]);
    o += ' ';
    put(o, r.row_lead[i]);
    o += " ;";
    for (std::uint32_t j = r.term_begin[i]; j < r.term_begin[i + 1]; ++j) {
      o += ' ';
      put(o, r.term_k[j]);
      o += ':';
      put(o, r.term_col[j]);
    }
    o += " ; ";
    put_list(o, r.used, r.used_begin[i], r.used_begin[i + 1]);
    o += " ; ";
    put_list(o, r.tail_col, r.tail_begin[i], r.tail_begin[i + 1]);
    o += '\n';
  }
  for (std::size_t t = 0; t + 1 < r.target_used_begin.size(); ++t) {
    o += "reduce ";
    put_list(o, r.target_used, r.target_used_begin[t], r.target_used_begin[t + 1]);
    o += '\n';
  }
}

}  // namespace

bool is_recording_text(std::string_view text) { return text.substr(0, 17) == kMagic.substr(0, 17); }

RecordingSize Recording::size() const {
  RecordingSize s;
  s.equations = rows();
  s.terms = term_col.size() + tail_col.size();
  auto tail_len = [&](std::uint32_t u) { return std::size_t(tail_begin[u + 1] - tail_begin[u]); };
  for (std::size_t i = 0; i < rows(); ++i) {
    s.multiply_adds += (term_begin[i + 1] - term_begin[i]) + tail_len(static_cast<std::uint32_t>(i));
    for (std::uint32_t j = used_begin[i]; j < used_begin[i + 1]; ++j) s.multiply_adds += tail_len(used[j]);
  }
  for (std::uint32_t u : target_used) s.target_multiply_adds += tail_len(u);
  s.multiply_adds += s.target_multiply_adds;
  return s;
}

std::vector<Integral> Recording::master_integrals() const {
  std::vector<Integral> out;
  for (auto c : masters) out.push_back(columns[c]);
  return out;
}

std::vector<Integral> Recording::target_integrals() const {
  std::vector<Integral> out;
  for (auto c : targets) out.push_back(columns[c]);
  return out;
}

std::string Recording::to_text() const {
  std::string o;
  write_header(*this, o);
  write_rows(*this, o);
  o += "checksum " + fnv1a_hex(o) + "\nend\n";
  return o;
}

namespace {

void check_seal(std::string_view text) {
  const auto at = text.rfind("checksum ");
  const bool line_start = at != std::string_view::npos && (at == 0 || text[at - 1] == '\n');
  if (!line_start || text.substr(at) != "checksum " + fnv1a_hex(text.substr(0, at)) + "\nend\n")
    throw RecordingFileError("the recording is corrupt (checksum mismatch): record it again with --save-path");
}

NumericPoint read_point(const Lines& in, std::string_view s, const FamilyDef& family) {
  NumericPoint point;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = s.find(',', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view item = s.substr(start, end - start);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) in.fail("bad point");
    point.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
    start = end + 1;
  }
  if (point.size() != family.symbols.size()) in.fail("the point does not give every symbol of the family");
  for (std::size_t i = 0; i < point.size(); ++i)
    if (point[i].first != family.symbols[i]) in.fail("the point's symbols are not the family's");
  return point;
}

void read_header(Lines& in, Recording& r, const FamilyDef& family) {
  const std::string_view magic = in.next();
  if (magic != kMagic && magic != kMagicV1) in.fail("not a sailir recording of version 1 or 2");
  std::string_view fam = in.field("family");
  const auto sp = fam.find(' ');
  r.family = std::string(fam.substr(0, sp));
  r.family_hash = sp == std::string_view::npos ? "" : std::string(fam.substr(sp + 1));
  if (r.family_hash != family.hash)
    throw RecordingFileError("the recording was made for family " + r.family + " (hash " + r.family_hash.substr(0, 12) +
                             "...), not for " + family.name + " (" + family.hash.substr(0, 12) + "...)");
  r.n = family.n;
  r.method = std::string(in.field("method"));
  try {
    r.prime = n_parse_prime(in.field("prime"));
  } catch (const std::invalid_argument&) {
    in.fail("bad prime");
  }
  r.point = read_point(in, in.field("point"), family);
  const std::uint64_t k = read_count(in, in.field("columns"));
  r.columns.reserve(k);
  for (std::uint64_t i = 0; i < k; ++i) {
    try {
      r.columns.push_back(parse_integral(in.next(), family.n));
    } catch (const std::invalid_argument& e) {
      in.fail(e.what());
    }
  }
  read_numbers(in, in.field("masters"), k, r.masters);
  read_numbers(in, in.field("targets"), k, r.targets);
  std::vector<std::uint32_t> zero;
  read_numbers(in, in.field("zero"), 2, zero);
  if (zero.size() != r.targets.size()) in.fail("one zero flag per target expected");
  r.target_zero.assign(zero.begin(), zero.end());
  if (magic == kMagic) {
    r.user_targets = read_count(in, in.field("user-targets"));
    if (r.user_targets > r.targets.size()) in.fail("more user targets than targets");
  }
}

// "T a1,...,an LEAD ; k:col ... ; used ... ; tail ...".
void read_row(Lines& in, Recording& r, int templates) {
  std::string_view line = in.next();
  std::string_view parts[4];
  for (int p = 0; p < 4; ++p) {
    const auto semi = line.find(';');
    if ((semi == std::string_view::npos) != (p == 3)) in.fail("a row has four parts separated by ';'");
    parts[p] = line.substr(0, semi);
    line = semi == std::string_view::npos ? std::string_view{} : line.substr(semi + 1);
  }
  std::istringstream head{std::string(parts[0])};
  long templ = -1;
  std::string seed;
  std::uint64_t lead = 0;
  if (!(head >> templ >> seed >> lead) || templ < 0 || templ >= templates || lead >= r.columns.size())
    in.fail("bad row head");
  try {
    r.row_seed.push_back(parse_integral("I[" + seed + "]", r.n));
  } catch (const std::invalid_argument& e) {
    in.fail(e.what());
  }
  r.row_template.push_back(static_cast<std::int32_t>(templ));
  r.row_lead.push_back(static_cast<std::uint32_t>(lead));
  std::string terms(parts[1]);
  for (char& c : terms) c = c == ':' ? ' ' : c;
  std::vector<std::uint32_t> pairs;
  read_numbers(in, terms, r.columns.size() > 65536 ? r.columns.size() : 65536, pairs);
  if (pairs.size() % 2) in.fail("bad term");
  for (std::size_t j = 0; j < pairs.size(); j += 2) {
    if (pairs[j] >= 65536 || pairs[j + 1] >= r.columns.size()) in.fail("bad term");
    r.term_k.push_back(static_cast<std::uint16_t>(pairs[j]));
    r.term_col.push_back(pairs[j + 1]);
  }
  r.term_begin.push_back(static_cast<std::uint32_t>(r.term_col.size()));
  const std::size_t row = r.rows() - 1;
  read_numbers(in, parts[2], row, r.used);  // only earlier rows
  r.used_begin.push_back(static_cast<std::uint32_t>(r.used.size()));
  read_numbers(in, parts[3], r.columns.size(), r.tail_col);
  r.tail_begin.push_back(static_cast<std::uint32_t>(r.tail_col.size()));
}

}  // namespace

Recording Recording::parse(std::string_view text, const FamilyDef& family) {
  if (!is_recording_text(text)) throw RecordingFileError("not a sailir recording");
  check_seal(text);
  Lines in(text);
  Recording r;
  read_header(in, r, family);
  const std::uint64_t rows = read_count(in, in.field("rows"));
  for (std::uint64_t i = 0; i < rows; ++i) read_row(in, r, static_cast<int>(family.templates.size()));
  for (std::size_t t = 0; t < r.targets.size(); ++t) {
    read_numbers(in, in.field("reduce"), rows, r.target_used);
    r.target_used_begin.push_back(static_cast<std::uint32_t>(r.target_used.size()));
  }
  for (std::size_t i = 0; i < r.rows(); ++i) {
    const std::size_t terms = family.templates[r.row_template[i]].terms.size();
    for (std::uint32_t j = r.term_begin[i]; j < r.term_begin[i + 1]; ++j)
      if (r.term_k[j] >= terms) in.fail("row " + std::to_string(i) + " names a term its identity does not have");
  }
  if (in.field("checksum").empty()) in.fail("missing checksum");
  return r;
}

}  // namespace sailir
