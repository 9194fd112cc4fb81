#include "family/point.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <stdexcept>

namespace sailir {

namespace {

bool is_rational(const std::string& v) {
  std::size_t i = (!v.empty() && (v[0] == '-' || v[0] == '+')) ? 1 : 0;
  bool digits = false, slash = false, den_digits = false;
  for (; i < v.size(); ++i) {
    if (v[i] >= '0' && v[i] <= '9') {
      (slash ? den_digits : digits) = true;
    } else if (v[i] == '/' && !slash && digits) {
      slash = true;
    } else {
      return false;
    }
  }
  if (slash && v.find_first_not_of("0/", v.find('/') + 1) == std::string::npos) return false;  // x/0
  return digits && (!slash || den_digits);
}

bool is_one(const std::string& v) {
  if (v == "1" || v == "+1") return true;
  auto slash = v.find('/');
  return slash != std::string::npos && v.substr(0, slash) == v.substr(slash + 1) && v[0] != '-';
}

// For a symbol that neither the family nor the user gave a value: a random non-integer rational,
// where coefficients vanish only by accident (and a point where the structure changes is refused
// by the reducer).
std::string random_generic_value() {
  thread_local std::mt19937_64 gen{std::random_device{}()};  // families load in several threads
  std::uniform_int_distribution<long> num(1000, 999999), den(101, 9973);
  long p = num(gen), q = den(gen);
  if (p % q == 0) ++p;
  return std::to_string(p) + "/" + std::to_string(q);
}

}  // namespace

namespace {

// Sets `sym` in `point` (which lists every symbol) after checking the name and the value.
void set_symbol(const FamilyDef& family, NumericPoint& point, const std::string& sym, const std::string& value) {
  auto it = std::find_if(point.begin(), point.end(), [&](auto& kv) { return kv.first == sym; });
  if (it == point.end()) {
    std::string names;
    for (auto& s : family.symbols) names += (names.empty() ? "" : ", ") + s;
    throw std::invalid_argument("point: unknown symbol '" + sym + "' (family " + family.name + " has " + names + ")");
  }
  if (!is_rational(value))
    throw std::invalid_argument("point: value '" + value + "' of " + sym +
                                " is not a rational number p or p/q with q != 0");
  if (sym == family.one && !is_one(value))
    throw std::invalid_argument("point: " + sym + " is the symbol replaced by one and must be 1, not " + value);
  it->second = value;
}

}  // namespace

NumericPoint given_symbols(const FamilyDef& family, std::string_view spec) {
  NumericPoint point;
  for (auto& s : family.symbols) point.emplace_back(s, "");
  std::vector<std::string> given;
  std::string_view s = spec;
  while (!s.empty()) {
    auto comma = s.find(',');
    std::string item(s.substr(0, comma));
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
    item.erase(std::remove(item.begin(), item.end(), ' '), item.end());
    if (item.empty()) throw std::invalid_argument("point: empty entry in '" + std::string(spec) + "'");
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("point: '" + item + "' is not of the form symbol=value");
    const std::string sym = item.substr(0, eq);
    if (std::find(given.begin(), given.end(), sym) != given.end())
      throw std::invalid_argument("point: " + sym + " is given twice");
    given.push_back(sym);
    set_symbol(family, point, sym, item.substr(eq + 1));
  }
  std::erase_if(point, [](auto& kv) { return kv.second.empty(); });
  return point;
}

NumericPoint resolve_point(const FamilyDef& family, std::string_view spec) {
  NumericPoint point;
  for (auto& s : family.symbols) point.emplace_back(s, "");
  for (auto& [sym, value] : family.point) set_symbol(family, point, sym, value);
  for (auto& [sym, value] : given_symbols(family, spec)) set_symbol(family, point, sym, value);
  for (auto& [sym, value] : point) {
    if (value.empty() && sym == family.one) value = "1";
    if (value.empty()) value = random_generic_value();
  }
  return point;
}

std::vector<u64> point_in_field(const NumericPoint& point, nmod_t mod) {
  std::vector<u64> out;
  for (auto& [sym, value] : point) {
    try {
      out.push_back(nmod_set_str(value, mod));
    } catch (const std::domain_error&) {
      throw std::domain_error("point: the denominator of " + sym + "=" + value + " vanishes modulo " +
                              std::to_string(mod.n));
    }
  }
  return out;
}

NumericPoint generic_point(const FamilyDef& family) {
  // Non-integer d and unrelated rational invariants: no IBP coefficient vanishes here by design.
  static const char* values[] = {"389/7", "541/11", "677/13", "853/17", "971/19", "1103/23", "1259/29", "1433/31"};
  NumericPoint point;
  std::size_t k = 0;
  for (auto& s : family.symbols) {
    if (s == "d") point.emplace_back(s, "1123/37");
    else if (s == family.one) point.emplace_back(s, "1");
    else point.emplace_back(s, values[k++ % 8]);
  }
  return point;
}

std::string format_point(const NumericPoint& point) {
  std::string out;
  for (auto& [sym, value] : point) out += (out.empty() ? "" : ",") + sym + "=" + value;
  return out;
}

}  // namespace sailir
