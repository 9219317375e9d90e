// SPDX-License-Identifier: MIT
// The worked example as LaTeX: given values, forward pass, error, chain rule for every trained
// parameter with numbers substituted, updates, loss history, in the order a textbook uses.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chainrule/exporters/latex_text.hpp"
#include "chainrule/trace/document.hpp"

namespace chainrule::exporters {

/// What kind of LaTeX to write.
enum class latex_form : std::uint8_t {
  /// A whole document: `\documentclass{article}` ... `\end{document}`.
  standalone,
  /// No preamble, for `\input` into the user's handout or into one Beamer frame with
  /// `[allowframebreaks]` (Beamer fits at most about 16000pt, some 60 slides, into one frame).
  fragment,
  /// No preamble, a sequence of Beamer frames (one per section and per parameter's gradient,
  /// each with `[allowframebreaks]`), for `\input` between the frames of a Beamer document.
  beamer,
};

/// Which symbols the quantities get.
enum class latex_notation : std::uint8_t {
  /// The model's own: its `symbol` lines, otherwise symbols made from the names
  /// (`net_h1` -> `net_{h1}`, `w5` -> `w_{5}`, `eta` -> `\eta`).
  model,
  /// Mazur's: inputs i_k, net_{h1} / out_{h1} for hidden units, net_{o1} / out_{o1} for output
  /// units, target_{o1}, weights w_1, w_2, ... numbered layer by layer, biases b_1, b_2.
  mazur,
  /// Layer superscripts: x_k, z^{(l)}_j, a^{(l)}_j, y_j, w^{(l)}_{jk}, b^{(l)}_j, E.
  layered,
  /// Hidden and output units by letter: x_k, z^{h}_j / h_j, z^{o}_j / o_j, y_j, w^{h}_{jk},
  /// w^{o}_{jk}, b^{h}, b^{o}, E.
  ho,
};

/// "model", "mazur", "layered", "ho".
[[nodiscard]] std::string_view to_string(latex_notation n) noexcept;
/// The notation named `name`, or std::nullopt.
[[nodiscard]] std::optional<latex_notation> parse_notation(std::string_view name) noexcept;

struct latex_options {
  latex_form form = latex_form::standalone;
  latex_notation notation = latex_notation::model;
  latex_text::number_format numbers;
  /// Rough width, in characters of math, of one equation line before a long sum or product is
  /// continued on the next line. Fragments are meant for slides and use a narrower default.
  std::size_t line_width = 0;  ///< 0: 72 for standalone, 48 for fragments
  /// Loss history tables longer than this show evenly spaced rows (the plot shows every point
  /// up to plot_points, then evenly spaced ones).
  std::size_t table_rows = 21;
  /// Tables are cut into blocks of at most this many rows, so that pages and Beamer frames can
  /// break between them. 0: 40 for standalone documents, 6 for fragments.
  std::size_t table_chunk = 0;
  std::size_t plot_points = 400;
};

/// The LaTeX symbol of every quantity (parallel to doc.quantities) under `notation`. The model's
/// symbols are checked first (latex_text::validate_symbol); a bad one throws
/// latex_text::symbol_error naming the quantity.
///
/// With mazur, layered and ho, quantities are recognised by their place in the network (an
/// activation function applied to a named pre-activation; weights multiplying the previous
/// layer's outputs; biases added; targets compared with an output), not by their names. A
/// quantity that does not fit a role keeps the model's symbol.
[[nodiscard]] std::vector<std::string> quantity_symbols(const trace::document& doc,
                                                        latex_notation notation);

/// The worked example. Numbers are the trace's `shown` text, never re-read as binary floating
/// point; numbers longer than options.numbers.plain_digits are set in breakable groups and the
/// lines that substitute them flow as paragraphs, so 100- and 1000-digit values fit the page.
/// Deterministic: the same document and options give the same bytes.
///
/// Throws latex_text::symbol_error for an unsafe model symbol.
[[nodiscard]] std::string to_latex(const trace::document& doc, const latex_options& options = {});

}  // namespace chainrule::exporters
