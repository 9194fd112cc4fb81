// Finds a family from what a user names: a built-in (compiled in), a compiled `.sfam` file, or a
// YAML file / Kira config directory, which the Python front end compiles (sympy derives the
// identities) into a content-hashed cache.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "family/family_file.hpp"

namespace sailir {

// Built-in families (name, compiled file text), embedded at build time.
const std::vector<std::pair<std::string_view, std::string_view>>& builtin_family_files();

// Throws FamilyFileError with a one-line message.
FamilyDef load_family(const std::string& spec);

}  // namespace sailir
