#include "algebra/integral.hpp"

#include <charconv>
#include <stdexcept>

namespace sailir {

std::string format_integral(const Integral& x, int n) {
  std::string out = "I[";
  for (int i = 0; i < n; ++i) {
    if (i) out += ',';
    out += std::to_string(static_cast<int>(x.a[i]));
  }
  out += ']';
  return out;
}

static std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Integral parse_integral(std::string_view text, int n) {
  const std::string quoted = "'" + std::string(text) + "'";
  std::string_view s = trim(text);
  if (s.size() < 3 || s.substr(0, 2) != "I[" || s.back() != ']')
    throw std::invalid_argument("integral " + quoted + " is not of the form I[a1,...,an]");
  s = s.substr(2, s.size() - 3);
  Integral x;
  int count = 0;
  while (true) {
    auto comma = s.find(',');
    std::string_view tok = trim(s.substr(0, comma));
    int v = 0;
    auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    if (tok.empty() || ec != std::errc() || ptr != tok.data() + tok.size())
      throw std::invalid_argument("integral " + quoted + ": power '" + std::string(tok) + "' is not an integer");
    if (v < -kMaxPower || v > kMaxPower)
      throw std::invalid_argument("integral " + quoted + ": power " + std::string(tok) + " is out of range");
    if (count < kMaxPropagators) x.a[count] = static_cast<std::int8_t>(v);
    ++count;
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  if (count != n)
    throw std::invalid_argument("integral " + quoted + " has " + std::to_string(count) + " powers, the family has " +
                                std::to_string(n) + " propagators");
  return x;
}

Integral integral_from_powers(const std::vector<int>& powers) {
  if (powers.size() > static_cast<std::size_t>(kMaxPropagators))
    throw std::invalid_argument("too many propagators (at most 16 supported)");
  Integral x;
  for (std::size_t i = 0; i < powers.size(); ++i) {
    if (powers[i] < -kMaxPower || powers[i] > kMaxPower) throw std::invalid_argument("power out of range");
    x.a[i] = static_cast<std::int8_t>(powers[i]);
  }
  return x;
}

}  // namespace sailir
