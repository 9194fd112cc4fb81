#include "output/writers.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace sailir {

OutputFormat parse_output_format(const std::string& name) {
  if (name == "json") return OutputFormat::json;
  if (name == "mathematica" || name == "m") return OutputFormat::mathematica;
  if (name == "form") return OutputFormat::form;
  throw std::invalid_argument("unknown output format '" + name + "' (json, mathematica, form)");
}

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string powers_json(const Integral& x, int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i) out += (i ? "," : "") + std::to_string(static_cast<int>(x.a[i]));
  return out + "]";
}

// A point value as a JSON number when it is an integer, as a string when it is a fraction.
std::string point_value_json(const std::string& v) {
  return v.find('/') == std::string::npos ? v : json_string(v);
}

// `{`, then the family, its hash and the method, each on its own line.
void json_head(std::ostringstream& o, const FamilyDef& f, const std::string& method) {
  o << "{\n  \"family\": " << json_string(f.name) << ",\n  \"family_hash\": " << json_string(f.hash)
    << ",\n  \"method\": " << json_string(method);
}

// `"point"` and `"masters"`, then the opening of `"reductions"`.
void json_point_and_masters(std::ostringstream& o, const NumericPoint& point, const std::vector<Integral>& masters, int n) {
  o << ",\n  \"point\": {";
  for (std::size_t i = 0; i < point.size(); ++i)
    o << (i ? ", " : "") << json_string(point[i].first) << ": " << point_value_json(point[i].second);
  o << "},\n  \"masters\": [";
  for (std::size_t i = 0; i < masters.size(); ++i) o << (i ? ", " : "") << powers_json(masters[i], n);
  o << "],\n  \"reductions\": {";
}

std::string write_json(const FamilyDef& f, const ReductionResult& r, const std::string& method) {
  const int n = f.n;
  std::ostringstream o;
  json_head(o, f, method);
  o << ",\n  \"prime\": " << r.prime;
  json_point_and_masters(o, r.point, r.masters, n);
  for (std::size_t t = 0; t < r.targets.size(); ++t) {
    o << (t ? "," : "") << "\n    " << json_string(format_integral(r.targets[t], n)) << ": {";
    bool first = true;
    for (auto [k, v] : r.coefficients[t]) {
      o << (first ? "" : ", ") << json_string(format_integral(r.masters[k], n)) << ": " << v;
      first = false;
    }
    o << "}";
  }
  o << "\n  },\n  \"check_prime\": " << (r.check_prime ? std::to_string(r.check_prime) : "null")
    << ",\n  \"warnings\": [";
  for (std::size_t i = 0; i < r.warnings.size(); ++i) o << (i ? ", " : "") << json_string(r.warnings[i]);
  o << "]";
  if (r.verified) o << ",\n  \"verified\": " << (*r.verified ? "true" : "false");
  o << ",\n  \"stats\": {";
  if (r.method_stats.empty()) {
    const auto& s = r.stats;
    o << "\"seeds\": " << s.seeds << ", \"equations\": " << s.equations << ", \"unknowns\": " << s.unknowns
      << ", \"pivots\": " << s.pivots << ", \"sectors_solved\": " << s.sectors_solved
      << ", \"widenings\": " << s.widenings << ", ";
  }
  for (auto& [k, v] : r.method_stats) {
    o << json_string(k) << ": ";
    if (v == std::floor(v) && std::abs(v) < 1e15) o << static_cast<long long>(v);  // counts stay exact
    else o << v;
    o << ", ";
  }
  if (r.peak_rss_mb > 0) o << "\"peak_rss_mb\": " << std::round(r.peak_rss_mb * 10) / 10 << ", ";
  o << "\"seconds\": " << r.seconds << "}\n}\n";
  return o.str();
}

std::string call(const std::string& head, const Integral& x, int n, char open, char close) {
  std::string out = head + open;
  for (int i = 0; i < n; ++i) out += (i ? "," : "") + std::to_string(static_cast<int>(x.a[i]));
  return out + close;
}

std::string write_symbolic(const FamilyDef& f, const ReductionResult& r, bool form) {
  const int n = f.n;
  std::ostringstream o;
  const char* c0 = form ? "* " : "(* ";
  const char* c1 = form ? "" : " *)";
  o << c0 << "sailir reduction of family " << f.name << " (" << f.hash << ") modulo " << r.prime << " at "
    << format_point(r.point) << c1 << "\n";
  if (!form) o << "{\n";
  for (std::size_t t = 0; t < r.targets.size(); ++t) {
    const char open = form ? '(' : '[', close = form ? ')' : ']';
    o << (form ? "id " : "  ") << call(f.name, r.targets[t], n, open, close) << (form ? " = " : " -> ");
    if (r.coefficients[t].empty()) o << "0";
    bool first = true;
    for (auto [k, v] : r.coefficients[t]) {
      o << (first ? "" : " + ") << v << "*" << call(f.name, r.masters[k], n, open, close);
      first = false;
    }
    o << (form ? ";" : (t + 1 < r.targets.size() ? "," : "")) << "\n";
  }
  if (!form) o << "}\n";
  return o.str();
}

std::string json_stat(double v) {
  std::ostringstream o;
  if (v == std::floor(v) && std::abs(v) < 1e15) o << static_cast<long long>(v);  // counts stay exact
  else o << v;
  return o.str();
}

std::string write_analytic_json(const FamilyDef& f, const AnalyticResult& r, const std::string& method,
                                double peak_rss_mb) {
  const int n = f.n;
  std::ostringstream o;
  json_head(o, f, method);
  o << ",\n  \"analytic\": true,\n  \"symbols\": [";
  for (std::size_t i = 0; i < r.symbols.size(); ++i) o << (i ? ", " : "") << json_string(r.symbols[i]);
  o << "]";
  json_point_and_masters(o, r.fixed, r.masters, n);
  for (std::size_t t = 0; t < r.targets.size(); ++t) {
    o << (t ? "," : "") << "\n    " << json_string(format_integral(r.targets[t], n)) << ": {";
    bool first = true;
    for (std::size_t m = 0; m < r.masters.size(); ++m) {
      if (r.coefficients[t][m] == "0") continue;
      o << (first ? "" : ", ") << json_string(format_integral(r.masters[m], n)) << ": " << json_string(r.coefficients[t][m]);
      first = false;
    }
    o << "}";
  }
  const RecordingSize& z = r.size;
  o << "\n  },\n  \"warnings\": [],\n  \"stats\": {\"probes\": " << r.probes << ", \"primes\": " << r.primes
    << ", \"probe_seconds\": " << json_stat(r.probe_seconds) << ", \"seconds_per_probe\": " << json_stat(r.seconds_per_probe)
    << ", \"device\": " << json_string(r.device) << ", \"device_notice\": " << json_string(r.device_notice)
    << ", \"record_seconds\": " << json_stat(r.record_seconds) << ", \"equations\": " << z.equations
    << ", \"terms\": " << z.terms << ", \"multiply_adds\": " << z.multiply_adds << ", ";
  if (peak_rss_mb > 0) o << "\"peak_rss_mb\": " << std::round(peak_rss_mb * 10) / 10 << ", ";
  o << "\"seconds\": " << json_stat(r.seconds) << "}\n}\n";
  return o.str();
}

// Kira-style rules: fam[a..] -> (coef)*fam[m..] + ...; FORM: id fam(a..) = ...;
std::string write_analytic_symbolic(const FamilyDef& f, const AnalyticResult& r, bool form) {
  const int n = f.n;
  std::ostringstream o;
  const char* c0 = form ? "* " : "(* ";
  const char* c1 = form ? "" : " *)";
  std::string symbols;
  for (auto& s : r.symbols) symbols += (symbols.empty() ? "" : ",") + s;
  o << c0 << "sailir exact reduction of family " << f.name << " (" << f.hash << "); symbols " << symbols;
  if (!r.fixed.empty()) o << "; fixed " << format_point(r.fixed);
  o << c1 << "\n";
  if (!form) o << "{\n";
  const char open = form ? '(' : '[', close = form ? ')' : ']';
  for (std::size_t t = 0; t < r.targets.size(); ++t) {
    o << (form ? "id " : "  ") << call(f.name, r.targets[t], n, open, close) << (form ? " = " : " -> ");
    bool first = true;
    for (std::size_t m = 0; m < r.masters.size(); ++m) {
      if (r.coefficients[t][m] == "0") continue;
      o << (first ? "" : " + ") << "(" << r.coefficients[t][m] << ")*" << call(f.name, r.masters[m], n, open, close);
      first = false;
    }
    if (first) o << "0";
    o << (form ? ";" : (t + 1 < r.targets.size() ? "," : "")) << "\n";
  }
  if (!form) o << "}\n";
  return o.str();
}

}  // namespace

std::string write_analytic(const FamilyDef& family, const AnalyticResult& result, OutputFormat format,
                           const std::string& method, double peak_rss_mb) {
  switch (format) {
    case OutputFormat::json: return write_analytic_json(family, result, method, peak_rss_mb);
    case OutputFormat::mathematica: return write_analytic_symbolic(family, result, false);
    case OutputFormat::form: return write_analytic_symbolic(family, result, true);
  }
  return {};
}

std::string write_result(const FamilyDef& family, const ReductionResult& result, OutputFormat format,
                         const std::string& method) {
  switch (format) {
    case OutputFormat::json: return write_json(family, result, method);
    case OutputFormat::mathematica: return write_symbolic(family, result, false);
    case OutputFormat::form: return write_symbolic(family, result, true);
  }
  return {};
}

}  // namespace sailir
