// The policies shipped for built-in families (python/sailir/data/policies/*.onnx), embedded at
// build time by cmake/embed_policies.cmake so that no data file is needed at run time.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace sailir {

// (family name, ONNX file bytes).
const std::vector<std::pair<std::string_view, std::string_view>>& builtin_policy_files();

}  // namespace sailir
