// SPDX-License-Identifier: MIT
// The worked example as plain text for a terminal (`chainrule run`): the same steps as the LaTeX
// version, with aligned equations, a table of values and gradients, and the loss history.
#pragma once

#include <cstddef>
#include <string>

#include "chainrule/trace/document.hpp"

namespace chainrule::exporters {

struct text_options {
  /// A derivation whose one-line form (`a = formula = numbers = value`) is wider than this is
  /// written one `=` per line, aligned.
  std::size_t width = 100;
  /// Loss history tables longer than this show evenly spaced rows (first and last included).
  std::size_t table_rows = 21;
};

/// The worked example as UTF-8 text ending in a newline. Names are the model's, numbers the
/// trace's `shown` text. Control characters in titles and names are replaced so that the output
/// cannot drive the terminal. Deterministic.
[[nodiscard]] std::string to_text(const trace::document& doc, const text_options& options = {});

}  // namespace chainrule::exporters
