// Reduction results as JSON (the machine-readable contract), a Mathematica replacement list or
// FORM id statements.
#pragma once

#include <string>

#include "family/family_file.hpp"
#include "laporta/checked_reduction.hpp"
#include "scheduler/analytic.hpp"

namespace sailir {

enum class OutputFormat { json, mathematica, form };

OutputFormat parse_output_format(const std::string& name);  // throws std::invalid_argument
std::string write_result(const FamilyDef& family, const ReductionResult& result, OutputFormat format,
                         const std::string& method);
// Exact results: coefficients as rational functions of the free symbols (JSON adds "analytic" and
// "symbols"); `peak_rss_mb` 0 when not measured.
std::string write_analytic(const FamilyDef& family, const AnalyticResult& result, OutputFormat format,
                           const std::string& method, double peak_rss_mb = 0);

}  // namespace sailir
