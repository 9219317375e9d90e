// SPDX-License-Identifier: MIT
// Reading .chain text into a program (syntax only; see model.hpp for checking).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "chainrule/lang/ast.hpp"
#include "chainrule/lang/model.hpp"

namespace chainrule::lang {

/// Parentheses, brackets and call arguments may nest this deep. The parser is recursive
/// descent, so the limit keeps its stack use bounded; deeper input gets a diagnostic.
inline constexpr std::size_t max_nesting_depth = 256;

/// Larger .chain and CSV files are refused before parsing.
inline constexpr std::size_t max_file_bytes = 16u * 1024u * 1024u;

/// Parses .chain text. `file_name` is used in locations and to resolve `from "file.csv"`.
/// Throws model_error on a syntax error, on invalid UTF-8, NUL bytes, an empty file or a file
/// larger than max_file_bytes. Bad number literals are collected and reported together.
[[nodiscard]] program parse(std::string_view text, std::string file_name);

/// Reads and parses a file (the path as given becomes the file name in locations).
[[nodiscard]] program parse_file(const std::filesystem::path& path);

/// parse_file() followed by check().
[[nodiscard]] checked_model load_model(const std::filesystem::path& path);

}  // namespace chainrule::lang
