#include "family/family_source.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace sailir {

namespace {

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The Python that belongs to this installation: $SAILIR_PYTHON, else the interpreter installed
// beside this executable (a virtual environment's bin/), else python3 on PATH.
std::string python_interpreter() {
  if (const char* env = std::getenv("SAILIR_PYTHON"); env && *env) return env;
  std::array<char, 4096> buf{};
  ssize_t len = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (len > 0) {
    std::string dir(buf.data(), static_cast<std::size_t>(len));
    dir = dir.substr(0, dir.rfind('/'));
    for (const char* name : {"/python3", "/python"})
      if (exists(dir + name)) return dir + name;
  }
  return "python3";
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string compile_with_python(const std::string& spec) {
  const std::string cmd = shell_quote(python_interpreter()) + " -m sailir.compile " + shell_quote(spec) + " 2>&1";
  struct Closer {
    void operator()(FILE* f) const { if (f) ::pclose(f); }
  };
  FILE* raw = ::popen(cmd.c_str(), "r");
  if (!raw) throw FamilyFileError("cannot start Python to compile family " + spec);
  std::string output;
  std::array<char, 4096> buf;
  std::size_t got;
  while ((got = std::fread(buf.data(), 1, buf.size(), raw)) > 0) output.append(buf.data(), got);
  int status = ::pclose(raw);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  std::string last = output.substr(output.rfind('\n') == std::string::npos ? 0 : output.rfind('\n') + 1);
  if (status != 0 || last.empty()) {
    const std::string prefix = "sailir: error: ";
    if (last.rfind(prefix, 0) == 0) last = last.substr(prefix.size());
    if (last.find("No module named") != std::string::npos)
      last = "the sailir Python package is needed to compile YAML families (set SAILIR_PYTHON): " + last;
    throw FamilyFileError(last.empty() ? "cannot compile family " + spec : last);
  }
  return last;
}

}  // namespace

FamilyDef load_family(const std::string& spec) {
  for (auto& [name, text] : builtin_family_files())
    if (spec == name) return parse_family_file(text, "<built-in " + std::string(name) + ">");
  if (ends_with(spec, ".sfam")) return read_family_file(spec);
  if (!exists(spec.substr(0, spec.rfind(':') == std::string::npos || exists(spec) ? spec.size() : spec.rfind(':')))) {
    std::string names;
    for (auto& [name, text] : builtin_family_files()) names += (names.empty() ? "" : ", ") + std::string(name);
    throw FamilyFileError("unknown family '" + spec + "': not a built-in (" + names +
                          ") nor a family file or Kira config directory");
  }
  return read_family_file(compile_with_python(spec));
}

}  // namespace sailir
