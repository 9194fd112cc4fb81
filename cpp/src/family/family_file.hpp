// Loads a compiled family file (docs/family-file.md): the family's propagators, symbols, default
// point, preferred masters and its IBP/LI templates with exact rational coefficients.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "algebra/integral.hpp"

namespace sailir {

inline constexpr int kFamilyFileVersion = 3;
inline constexpr int kIdentitiesVersion = 1;

struct FamilyFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct MonomialDef {
  std::string coef;        // exact rational, decimal text
  std::vector<int> exps;   // exponents of (a1..an, symbols...)
};

struct TermDef {
  std::vector<int> shift;
  std::vector<MonomialDef> monos;
};

struct TemplateDef {
  std::string kind;  // "IBP" or "LI"
  std::string label1, label2;
  std::vector<TermDef> terms;
};

// A loop-momentum relabelling found when the family was compiled (python/sailir/symmetries.py):
// it maps sector `source` onto `target` (equal for a sector's self-map). Under it propagator j
// becomes sum_m coefs[j][m] D_m + constant[j], the constant's monomials over the symbols.
struct SymmetryDef {
  SectorId source = 0, target = 0;
  std::vector<std::vector<std::string>> coefs;  // n x n exact rationals
  std::vector<std::vector<MonomialDef>> constant;  // per propagator; exponents over the symbols
};

struct FamilyDef {
  std::string name;
  std::string hash;
  int identities_version = 0;
  int n = 0;                                   // number of propagators
  std::vector<std::string> propagators;
  std::vector<int> irreducible;                // 0-based indices
  std::vector<std::string> symbols;            // d first, then invariants
  std::string one;                             // symbol replaced by one, or ""
  std::vector<std::pair<std::string, std::string>> point;  // default numeric point
  std::vector<Integral> masters;               // preferred basis, may be empty
  std::vector<TemplateDef> templates;
  std::vector<SymmetryDef> symmetries;  // sector mappings first, then self-maps of unique sectors

  bool is_irreducible(int i) const;
};

// FNV-1a (64 bit) of `bytes` as 16 hex digits: the seal of compiled families and recordings.
std::string fnv1a_hex(std::string_view bytes);

// `source` names the file in error messages.
FamilyDef parse_family_file(std::string_view text, const std::string& source);
FamilyDef read_family_file(const std::string& path);

// Parses an integral of `family`: the right number of integer powers, and no positive power on an
// irreducible numerator. Throws std::invalid_argument with a one-line message.
Integral parse_family_integral(const FamilyDef& family, std::string_view text);

// The integrals written in a file: one per line (`#` starts a comment), as Kira's lists and master
// files have them, or a Mathematica list {fam[1, 1, 2], ...} over any number of lines.
std::vector<std::string> integral_list(std::string_view text);

}  // namespace sailir
