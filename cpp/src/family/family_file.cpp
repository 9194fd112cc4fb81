#include "family/family_file.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace sailir {

// FNV-1a (64 bit): the file's last lines are `checksum HEX` of every byte before them, and `end`.
// A changed digit in a cached file once made every integral reduce to 0.
std::string fnv1a_hex(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}


bool FamilyDef::is_irreducible(int i) const {
  return std::find(irreducible.begin(), irreducible.end(), i) != irreducible.end();
}

namespace {

std::vector<std::string> split(std::string_view line, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= line.size()) {
    auto pos = line.find(sep, start);
    if (pos == std::string_view::npos) pos = line.size();
    if (pos > start || sep != ' ') out.emplace_back(line.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

class Reader {
 public:
  Reader(std::string_view text, const std::string& source) : source_(source) {
    std::size_t start = 0;
    int number = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(start, end - start);
      ++number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      auto hash = line.find(" #");
      if (hash != std::string_view::npos) line = line.substr(0, hash);
      if (!line.empty() && line.front() != '#') lines_.emplace_back(number, std::string(line));
      start = end + 1;
    }
  }

  [[noreturn]] void fail(const std::string& what) const {
    int line = pos_ == 0 ? 1 : lines_[std::min(pos_, lines_.size()) - 1].first;
    throw FamilyFileError("family file " + source_ + ", line " + std::to_string(line) + ": " + what);
  }

  // Next line split on spaces; its first token must be `key` (when given).
  std::vector<std::string> next(const std::string& key) {
    if (pos_ >= lines_.size()) fail("unexpected end of file, expected '" + key + "'");
    auto tokens = split(lines_[pos_++].second, ' ');
    if (!key.empty() && (tokens.empty() || tokens[0] != key))
      fail("expected '" + key + "', found '" + (tokens.empty() ? std::string() : tokens[0]) + "'");
    return tokens;
  }

  int to_int(const std::string& s) const {
    int v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) fail("'" + s + "' is not an integer");
    return v;
  }

  std::vector<int> int_list(const std::string& s) const {
    std::vector<int> out;
    for (auto& tok : split(s, ',')) out.push_back(to_int(tok));
    return out;
  }

  bool done() const { return pos_ >= lines_.size(); }

 private:
  std::string source_;
  std::vector<std::pair<int, std::string>> lines_;
  std::size_t pos_ = 0;
};

void check_seal(std::string_view text, const std::string& source) {
  const auto at = text.rfind("checksum ");
  const bool line_start = at != std::string_view::npos && (at == 0 || text[at - 1] == '\n');
  if (!line_start || text.substr(at) != "checksum " + fnv1a_hex(text.substr(0, at)) + "\nend\n")
    throw FamilyFileError("compiled family " + source + " is corrupt (checksum mismatch); recompile it");
}

// `symmetries K [externals]` (the optional word: external permutations were searched too; files
// without it are still read), then per mapping `map SOURCE TARGET` and n lines `image M_1,..,M_n NMONOS`,
// each followed by its constant's `mono COEF EXPONENTS` lines (exponents over the symbols).
void read_symmetries(Reader& in, FamilyDef& f) {
  auto head = in.next("symmetries");
  if (head.size() != 2 && !(head.size() == 3 && head[2] == "externals")) in.fail("expected 'symmetries N [externals]'");
  const int count = in.to_int(head[1]);
  const SectorId all = (SectorId{1} << f.n) - 1;
  for (int k = 0; k < count; ++k) {
    auto map = in.next("map");
    if (map.size() != 3) in.fail("expected 'map SOURCE TARGET'");
    SymmetryDef sym;
    sym.source = static_cast<SectorId>(in.to_int(map[1]));
    sym.target = static_cast<SectorId>(in.to_int(map[2]));
    if ((sym.source & ~all) || (sym.target & ~all)) in.fail("sector out of range in 'map'");
    for (int j = 0; j < f.n; ++j) {
      auto image = in.next("image");
      if (image.size() != 3) in.fail("expected 'image M_1,...,M_n NMONOS'");
      sym.coefs.push_back(split(image[1], ','));
      if (sym.coefs.back().size() != static_cast<std::size_t>(f.n)) in.fail("image row has the wrong length");
      std::vector<MonomialDef> constant;
      for (int m = in.to_int(image[2]); m > 0; --m) {
        auto mono = in.next("mono");
        if (mono.size() != 3) in.fail("expected 'mono COEF EXPONENTS'");
        MonomialDef md{mono[1], in.int_list(mono[2])};
        if (md.exps.size() != f.symbols.size()) in.fail("exponent vector has the wrong length");
        constant.push_back(std::move(md));
      }
      sym.constant.push_back(std::move(constant));
    }
    f.symmetries.push_back(std::move(sym));
  }
}

}  // namespace

FamilyDef parse_family_file(std::string_view text, const std::string& source) {
  Reader in(text, source);
  FamilyDef f;
  auto magic = in.next("sailir-family");
  if (magic.size() != 2 || in.to_int(magic[1]) != kFamilyFileVersion)
    in.fail("unsupported family file version (this build reads version " + std::to_string(kFamilyFileVersion) + ")");
  check_seal(text, source);
  auto name = in.next("name");
  if (name.size() != 2) in.fail("expected 'name NAME'");
  f.name = name[1];
  auto hash = in.next("hash");
  if (hash.size() != 2 || hash[1].size() != 64) in.fail("expected 'hash' with 64 hex digits");
  f.hash = hash[1];
  auto idv = in.next("identities-version");
  if (idv.size() != 2) in.fail("expected 'identities-version N'");
  f.identities_version = in.to_int(idv[1]);
  if (f.identities_version != kIdentitiesVersion)
    in.fail("identities version " + idv[1] + " does not match this build's version " +
            std::to_string(kIdentitiesVersion) + "; recompile the family");
  auto props = in.next("propagators");
  if (props.size() != 2) in.fail("expected 'propagators N'");
  f.n = in.to_int(props[1]);
  if (f.n < 1 || f.n > kMaxPropagators) in.fail("between 1 and 16 propagators are supported");
  for (int i = 0; i < f.n; ++i) {
    auto p = in.next("propagator");
    if (p.size() != 3 || in.to_int(p[1]) != i + 1) in.fail("expected 'propagator " + std::to_string(i + 1) + " D'");
    f.propagators.push_back(p[2]);
  }
  auto irr = in.next("irreducible");
  for (std::size_t i = 1; i < irr.size(); ++i) {
    int k = in.to_int(irr[i]);
    if (k < 1 || k > f.n) in.fail("irreducible index " + irr[i] + " out of range");
    f.irreducible.push_back(k - 1);
  }
  auto syms = in.next("symbols");
  if (syms.size() < 2 || syms[1] != "d") in.fail("the symbol list must start with d");
  f.symbols.assign(syms.begin() + 1, syms.end());
  auto one = in.next("one");
  if (one.size() != 2) in.fail("expected 'one SYMBOL' or 'one -'");
  if (one[1] != "-") f.one = one[1];
  auto point = in.next("point");
  for (std::size_t i = 1; i < point.size(); ++i) {
    auto eq = point[i].find('=');
    if (eq == std::string::npos) in.fail("point entry '" + point[i] + "' is not symbol=value");
    f.point.emplace_back(point[i].substr(0, eq), point[i].substr(eq + 1));
  }
  auto masters = in.next("masters");
  if (masters.size() != 2) in.fail("expected 'masters N'");
  int nm = in.to_int(masters[1]);
  for (int i = 0; i < nm; ++i) {
    auto m = in.next("");
    try {
      f.masters.push_back(parse_integral(m.at(0), f.n));
    } catch (const std::exception& e) {
      in.fail(e.what());
    }
  }
  auto templates = in.next("templates");
  if (templates.size() != 2) in.fail("expected 'templates N'");
  int nt = in.to_int(templates[1]);
  const std::size_t nvars = static_cast<std::size_t>(f.n) + f.symbols.size();
  for (int t = 0; t < nt; ++t) {
    auto head = in.next("template");
    if (head.size() != 5 || (head[1] != "IBP" && head[1] != "LI")) in.fail("expected 'template IBP|LI L1 L2 NTERMS'");
    TemplateDef tmpl{head[1], head[2], head[3], {}};
    int nterms = in.to_int(head[4]);
    for (int k = 0; k < nterms; ++k) {
      auto term = in.next("term");
      if (term.size() != 3) in.fail("expected 'term SHIFT NMONOS'");
      TermDef td{in.int_list(term[1]), {}};
      if (td.shift.size() != static_cast<std::size_t>(f.n)) in.fail("shift vector has the wrong length");
      int nmono = in.to_int(term[2]);
      for (int j = 0; j < nmono; ++j) {
        auto mono = in.next("mono");
        if (mono.size() != 3) in.fail("expected 'mono COEF EXPONENTS'");
        MonomialDef md{mono[1], in.int_list(mono[2])};
        if (md.exps.size() != nvars) in.fail("exponent vector has the wrong length");
        for (int e : md.exps)
          if (e < 0) in.fail("negative exponent");
        td.monos.push_back(std::move(md));
      }
      tmpl.terms.push_back(std::move(td));
    }
    f.templates.push_back(std::move(tmpl));
  }
  read_symmetries(in, f);
  in.next("checksum");
  in.next("end");
  return f;
}

Integral parse_family_integral(const FamilyDef& family, std::string_view text) {
  // Kira and our Mathematica output name the family: NAME[a1,...,an] is I[a1,...,an].
  std::string spelled(text);
  const auto first = spelled.find_first_not_of(" \t\r\n");
  const auto bracket = spelled.find('[');
  if (first != std::string::npos && bracket != std::string::npos && bracket > first) {
    const std::string name = spelled.substr(first, bracket - first);
    if (name != "I" && name != family.name)
      throw std::invalid_argument("integral '" + std::string(text) + "' names family " + name + ", not " + family.name);
    spelled = "I" + spelled.substr(bracket);
  }
  Integral x = parse_integral(spelled, family.n);
  for (int i : family.irreducible)
    if (x.a[i] > 0)
      throw std::invalid_argument("integral " + std::string(text) + ": propagator " + std::to_string(i + 1) +
                                  " is an irreducible numerator and cannot have a positive power");
  return x;
}

// Integrals in a file: one per line (`#` starts a comment), as Kira's lists and master files
// have them, or a Mathematica list {fam[1, 1, 2], ...} over any number of lines.
std::vector<std::string> integral_list(std::string_view text) {
  std::string body;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    const auto hash = line.find('#');
    body += line.substr(0, hash) + "\n";
  }
  std::vector<std::string> out;
  std::string item;
  int depth = 0;
  auto flush = [&] {
    const auto start = item.find_first_not_of(" \t\r\n");
    if (start != std::string::npos) out.push_back(item.substr(start, item.find_last_not_of(" \t\r\n") - start + 1));
    item.clear();
  };
  for (char c : body) {  // items end at a newline or a comma outside brackets; braces are dropped
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == '{' || c == '}') continue;
    if (depth == 0 && (c == '\n' || c == ',')) {
      flush();
      continue;
    }
    item += (c == '\n' || c == '\r') ? ' ' : c;
  }
  flush();
  return out;
}

FamilyDef read_family_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw FamilyFileError("cannot read family file " + path);
  std::stringstream buf;
  buf << file.rdbuf();
  return parse_family_file(buf.str(), path);
}

}  // namespace sailir
