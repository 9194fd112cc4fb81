// The numeric point: values of d and the invariants, given as exact rationals and mapped into
// the field of the current prime.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "family/family_file.hpp"
#include "ff/nmod.hpp"

namespace sailir {

// (symbol, rational text) for every symbol of the family, in the family's symbol order.
using NumericPoint = std::vector<std::pair<std::string, std::string>>;

// The family's default point overridden by `spec` ("d=41,m2=31/7"); a symbol given by neither gets
// a random rational (so structure needs no point; results record the point they are for). Throws
// std::invalid_argument with a one-line message for unknown symbols, malformed values, and a
// symbol_to_replace_by_one set to anything but 1.
NumericPoint resolve_point(const FamilyDef& family, std::string_view spec);

// Only the symbols `spec` gives, checked as resolve_point checks them (family order).
NumericPoint given_symbols(const FamilyDef& family, std::string_view spec);

// Values in the field; throws std::domain_error when a denominator vanishes modulo the prime.
std::vector<u64> point_in_field(const NumericPoint& point, nmod_t mod);

// A point where the family's identities behave generically (used to detect degenerate points).
NumericPoint generic_point(const FamilyDef& family);

std::string format_point(const NumericPoint& point);  // "d=41,m1=1,..."

}  // namespace sailir
