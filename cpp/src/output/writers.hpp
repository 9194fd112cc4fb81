// Reduction results as JSON (the machine-readable contract), a Mathematica replacement list or
// FORM id statements.
#pragma once

#include <string>

#include "family/family_file.hpp"
#include "laporta/checked_reduction.hpp"

namespace sailir {

enum class OutputFormat { json, mathematica, form };

OutputFormat parse_output_format(const std::string& name);  // throws std::invalid_argument
std::string write_result(const FamilyDef& family, const ReductionResult& result, OutputFormat format,
                         const std::string& method);

}  // namespace sailir
