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

/// What parse() accepts. The defaults are the language's limits (docs/language.md "Limits");
/// a tool reading files from strangers may lower them, or raise them for a known large model.
struct parse_limits {
  std::size_t max_file_bytes = lang::max_file_bytes;
  /// At most a few thousand: every level costs a few hundred bytes of stack.
  std::size_t max_nesting_depth = lang::max_nesting_depth;
};

/// Parses .chain text. `file_name` is used in locations and to resolve `from "file.csv"`.
/// Throws model_error on a syntax error, on invalid UTF-8, NUL bytes, an empty file, a file
/// larger than limits.max_file_bytes or brackets nested deeper than limits.max_nesting_depth.
/// Bad number literals are collected and reported together.
[[nodiscard]] program parse(std::string_view text, std::string file_name,
                            const parse_limits& limits = {});

/// Reads and parses a file (the path as given becomes the file name in locations). A file
/// larger than limits.max_file_bytes is refused before it is read.
[[nodiscard]] program parse_file(const std::filesystem::path& path,
                                 const parse_limits& limits = {});

/// parse_file() followed by check().
[[nodiscard]] checked_model load_model(const std::filesystem::path& path);

}  // namespace chainrule::lang
