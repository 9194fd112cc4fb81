// sailir._core: the Python binding of the engine. Python passes a compiled family file (path);
// everything numeric happens in C++.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "family/family_source.hpp"
#include "family/point.hpp"
#include "laporta/checked_reduction.hpp"
#include "laporta/laporta.hpp"
#include "output/writers.hpp"

namespace py = pybind11;
using namespace sailir;

namespace {

std::vector<Integral> parse_all(const std::vector<std::string>& texts, const FamilyDef& family) {
  std::vector<Integral> out;
  for (auto& t : texts) out.push_back(parse_family_integral(family, t));
  return out;
}

std::vector<std::vector<int>> powers(const std::vector<Integral>& xs, int n) {
  std::vector<std::vector<int>> out;
  for (auto& x : xs) out.emplace_back(x.a.begin(), x.a.begin() + n);
  return out;
}

std::string reduce(const std::string& family_file, const std::vector<std::string>& integrals, std::uint64_t prime,
                   const std::string& point, const std::optional<std::vector<std::string>>& masters, bool check,
                   int r_extra, int s_extra, const std::string& format) {
  FamilyDef family = load_family(family_file);
  ReductionRequest req;
  if (!n_is_prime(prime) || prime >= (1ULL << 63) || prime < (1ULL << 16))
    throw std::invalid_argument("modulus " + std::to_string(prime) + " is not a prime in [2^16, 2^63)");
  req.prime = prime;
  req.point = resolve_point(family, point);
  req.preferred = masters ? parse_all(*masters, family) : family.masters;
  req.targets = parse_all(integrals, family);
  req.check = check;
  req.threads = 2;
  req.options.r_extra = r_extra;
  req.options.s_extra = s_extra;
  ReductionResult result;
  {
    py::gil_scoped_release release;
    result = reduce_checked(family, req);
  }
  return write_result(family, result, parse_output_format(format), "laporta");
}

py::dict sectors(const std::string& family_file, std::uint64_t prime, const std::string& point,
                 const std::optional<std::vector<std::string>>& masters) {
  FamilyDef family = load_family(family_file);
  LaportaReducer reducer(family, resolve_point(family, point), prime,
                         masters ? parse_all(*masters, family) : std::vector<Integral>{});
  py::dict d;
  d["nonzero_sectors"] = reducer.nonzero_sectors();
  d["masters"] = powers(reducer.masters(), family.n);
  d["notes"] = reducer.basis_notes();
  return d;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "sailir native engine";
  static py::exception<FamilyFileError> family_error(m, "FamilyFileError", PyExc_ValueError);
  static py::exception<UnreducedError> unreduced_error(m, "UnreducedError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FamilyFileError& e) {
      py::set_error(family_error, e.what());
    } catch (const UnreducedError& e) {
      py::set_error(unreduced_error, e.what());
    }
  });
  m.attr("DEFAULT_PRIME") = kDefaultPrime;
  m.def("reduce", &reduce, py::arg("family_file"), py::arg("integrals"), py::arg("prime") = kDefaultPrime,
        py::arg("point") = "", py::arg("masters") = std::nullopt, py::arg("check") = true, py::arg("r_extra") = 0,
        py::arg("s_extra") = 0, py::arg("format") = "json",
        "Reduce integrals with the Laporta method; returns the formatted result (JSON by default).");
  m.def("sectors", &sectors, py::arg("family_file"), py::arg("prime") = kDefaultPrime, py::arg("point") = "",
        py::arg("masters") = std::nullopt, "Nonzero sectors and master integrals of a family.");
  m.def("is_prime", &n_is_prime, "Deterministic primality test for 64-bit integers.");
  m.def("builtin_families", [] {
    std::vector<std::string> out;
    for (auto& [name, text] : builtin_family_files()) out.emplace_back(name);
    return out;
  });
}
