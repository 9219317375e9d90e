// SPDX-License-Identifier: MIT
// Small LaTeX building blocks shared by the LaTeX exporter and the command line: escaping free
// text, turning model names into math symbols, checking user-written symbols, and typesetting
// long decimal numbers so that they fit on the page.
//
// Internal to the exporters (the CLI uses symbol checking to report errors at the symbol's
// location); not part of the stable API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "chainrule/trace/document.hpp"

namespace chainrule::exporters::latex_text {

/// Escapes free text (titles, names in prose) for LaTeX text mode. The special characters
/// `\ # $ % & _ { } ~ ^ < > |` become commands that print them; tabs and line breaks become
/// spaces and other control characters are dropped. UTF-8 Latin letters pass through, Greek
/// letters become math symbols, other characters (and invalid UTF-8) become `?`.
[[nodiscard]] std::string escape_text(std::string_view text);

/// The LaTeX command of a Greek letter name (`eta` -> `\eta`, `Delta` -> `\Delta`), or an empty
/// string when `word` is not one.
[[nodiscard]] std::string_view greek_command(std::string_view word);

/// The default math-mode symbol for a model name:
///   `w5` -> `w_{5}`, `net_h1` -> `net_{h1}`, `E_total` -> `E_{total}`, `eta` -> `\eta`,
///   `delta_o1` -> `\delta_{o1}`, `W_1_2` -> `W_{1,2}`, `net_h_1` -> `net_{h1}`,
///   `W_h_1_2` -> `W_{h1,2}`.
/// Names are identifiers (`[A-Za-z_][A-Za-z0-9_]*`); anything else is escaped and set upright.
[[nodiscard]] std::string default_symbol(std::string_view name);

/// Raised for a user-written symbol that is unsafe or would break the document.
class symbol_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What is wrong with a user-written math symbol, or an empty string when it is fine.
///
/// A symbol is typeset in math mode inside chainrule's equations, so it may only use math:
/// letters, digits, `_ ^ ' ( ) [ ] + - * / , . : ; ! ? = < > | ~`, balanced braces and a fixed
/// set of commands (Greek letters, accents like `\hat`, fonts like `\mathrm` and `\text`, a few
/// symbols). Commands that read or write files or change TeX itself (`\input`, `\include`,
/// `\write`, `\read`, `\openin`, `\openout`, `\catcode`, `\def`, `\csname`, `\immediate`,
/// `\special`, ...), `^^` escapes, `$ & % #`, `\\`, unbalanced braces and non-ASCII text are
/// refused. The message says what was found and what would be accepted instead.
[[nodiscard]] std::string symbol_problem(std::string_view latex);

/// Throws symbol_error("symbol for 'NAME' ...") when symbol_problem() finds something.
void validate_symbol(std::string_view name, std::string_view latex);

/// `symbol` with a superscript added: `w_{5}` + `+` -> `w_{5}^{+}`. A symbol that already has
/// a top-level superscript or prime is braced first (`{w^{(1)}}^{+}`) to avoid a double
/// superscript.
[[nodiscard]] std::string with_superscript(std::string_view symbol, std::string_view superscript);

/// How decimal numbers are typeset.
struct number_format {
  /// Numbers with at most this many digits are printed as they are (`0.298371109`, as in a
  /// textbook). Longer ones are split into groups.
  std::size_t plain_digits = 15;
  /// Digits per group for long numbers, counted away from the decimal point.
  std::size_t group = 5;
};

/// True when `shown` has more digits than format.plain_digits, i.e. when math_number() splits
/// it into groups and it no longer fits into an ordinary displayed equation.
[[nodiscard]] bool is_long_number(std::string_view shown, const number_format& format = {});

/// A decimal string from the trace (`-0.0190491`, `1.25e-7`, `0.29837...` with 1000 digits) as
/// math-mode LaTeX. Long numbers get a thin space and a permitted line break (`\allowbreak`)
/// between digit groups, so that inside inline math they wrap onto as many lines as needed.
/// The digits are copied, never re-read as a binary number. A certified run's "…" after the
/// digits (digits that could not be certified, trace::settings::certification) becomes `\ldots`.
/// Throws std::invalid_argument when `shown` is not a decimal number.
[[nodiscard]] std::string math_number(std::string_view shown, const number_format& format = {});

/// True when `shown` starts with a minus sign (so a caller can parenthesise it after an
/// operator: `0.05 + (-0.019)`).
[[nodiscard]] bool is_negative(std::string_view shown) noexcept;

/// `shown` cut (not rounded) to at most `significant` significant digits, keeping its
/// exponent, for plot coordinates that pgfplots reads with its own limited float parser. A
/// certified run's "…" is dropped; "…" alone (no digit certified) gives "nan", which pgfplots
/// leaves out of the plot.
[[nodiscard]] std::string plot_number(std::string_view shown, std::size_t significant = 8);

// ---------------------------------------------------------------------------------------------
// Formulas

/// How render_formula() writes a trace expression.
struct formula_style {
  enum class form : std::uint8_t {
    latex,         ///< the op table's LaTeX templates (`\frac{#1}{#2}`, `\sigma\left(#1\right)`)
    inline_latex,  ///< LaTeX made from the plain-text templates (`#1/#2`, `\sigma(#1)`): no
                   ///< `\frac` or `\left`, so inline math can break inside it
    text,          ///< the plain-text templates (`#1/#2`, `sigmoid(#1)`)
  };
  form templates = form::latex;
  /// Write each node's value (`number::shown`) instead of its symbol, for the "numbers
  /// substituted" line. Nodes without a value keep their symbol.
  bool numbers = false;
  /// The symbol of every quantity (parallel to document::quantities): LaTeX symbols for the
  /// LaTeX forms, names for text.
  const std::vector<std::string>* symbols = nullptr;
  /// The loss; a derivative node with quantity == loss in an optimizer rule means dE/dw and is
  /// written with `parameter_symbol`.
  trace::quantity_index loss = 0;
  std::string parameter_symbol = "w";
  number_format numbers_format;
};

/// A rendered expression node: its text and how tightly it binds (1 additive .. 5 atom).
struct rendered_node {
  std::string text;
  int precedence = 5;
  bool number = false;  ///< a number (substituted value or literal), not a formula
};

/// Renders every node of `e` (children before parents, in one pass without recursion). Arguments
/// are parenthesised by looking at the operators around each placeholder in the template, so
/// `#1 \cdot #2` gets `(a + b) \cdot c` while `\frac{#1}{#2}` gets none; a negative number after
/// an operator is always parenthesised (`0.05 + (-0.019)`).
[[nodiscard]] std::vector<rendered_node> render_nodes(const trace::expression& e,
                                                      const formula_style& style);

/// The root of render_nodes(); empty for an empty expression.
[[nodiscard]] std::string render_formula(const trace::expression& e, const formula_style& style);

/// The terms of the top-level sum of `e` (a + b - c gives "a", "+ b", "- c"), each rendered, for
/// breaking a long sum over several lines. A formula that is not a sum gives one term.
[[nodiscard]] std::vector<std::string> render_terms(const trace::expression& e,
                                                    const formula_style& style);

/// The derivative d(of)/d(wrt) in the style's notation: `\frac{\partial E_{total}}{\partial
/// w_{5}}` or `dE_total/dw5`.
[[nodiscard]] std::string derivative_symbol(const std::string& of, const std::string& wrt,
                                            formula_style::form templates);

/// A rough width of a math-mode string in characters, for deciding where to break lines: command
/// names count as one character, braces and script markers as none, a fraction as its wider part.
[[nodiscard]] std::size_t math_width(std::string_view latex);

}  // namespace chainrule::exporters::latex_text
