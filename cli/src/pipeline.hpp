// SPDX-License-Identifier: MIT
// From a .chain file to a trace document: parse, check the symbols, check the model, apply the
// command line's number settings, lower to an engine graph, train or differentiate, record.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "chainrule/lang/diagnostics.hpp"
#include "chainrule/trace/document.hpp"

namespace chainrule::cli {

/// Number settings from the command line; each one given replaces the file's directive.
struct number_settings {
  /// "double", or the number of significant decimal digits ("100").
  std::optional<std::string> precision;
  std::optional<unsigned> decimals;  ///< display N decimals
  std::optional<unsigned> digits;    ///< display N significant digits
};

struct model_run {
  trace::document document;
  /// Every file the run read (the model and its CSV data sets): outputs may not replace them.
  std::vector<std::filesystem::path> inputs;
  /// Warnings of the checker, for stderr.
  std::vector<lang::diagnostic> warnings;
};

/// Runs the model in `file`. `title` replaces the title taken from the file (its first comment
/// line, or else the file name).
///
/// Throws lang::model_error for anything wrong with the model, located in the file where
/// possible: syntax and check errors, unsafe LaTeX in a `symbol` line, values that cannot be
/// computed, optimizer settings the training run rejects. Throws std::invalid_argument for a
/// `precision` setting out of range.
[[nodiscard]] model_run run_model(const std::filesystem::path& file, const number_settings& numbers,
                                  const std::optional<std::string>& title);

}  // namespace chainrule::cli
