// The C++ version of main.c, with the RAII wrapper sailir.hpp: same arguments, same output.
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "sailir.hpp"

int main(int argc, char** argv) {
  namespace api = sailir::api;
  bool learned = false;
  int first = 1;
  if (argc > 2 && std::strcmp(argv[1], "--method") == 0) {
    learned = std::strcmp(argv[2], "learned") == 0;
    first = 3;
  }
  if (first >= argc) {
    std::cerr << "usage: reduce_integral_cpp [--method laporta|learned] INTEGRAL...\n";
    return 2;
  }
  try {
    api::Family family("trianglebox");
    std::vector<std::string> integrals(argv + first, argv + argc);
    std::optional<api::Policy> policy;
    if (learned) policy.emplace(family);  // the policy shipped for the family
    api::Result r = learned ? api::reduce(family, *policy, integrals, api::Options::learned())
                            : api::reduce(family, integrals, api::Options::laporta());
    std::cout << "# prime " << r.prime() << "\n";
    for (std::size_t t = 0; t < r.target_count(); ++t) {
      std::cout << "# " << r.target(t) << "\n";
      for (auto [m, c] : r.terms(t)) std::cout << r.master(m) << " " << c << "\n";
    }
    for (const std::string& w : r.warnings()) std::cerr << "reduce_integral_cpp: warning: " << w << "\n";
  } catch (const api::Error& e) {
    std::cerr << "reduce_integral_cpp: " << e.what() << " (" << e.kind_name() << ")\n";
    return e.kind() == api::ErrorKind::bad_input ? 2 : e.kind() == api::ErrorKind::not_reduced ? 3 : 1;
  }
  return 0;
}
