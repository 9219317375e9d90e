// SPDX-License-Identifier: MIT
// Small LaTeX building blocks shared by the LaTeX exporter and the command line: escaping free
// text, turning model names into math symbols, checking user-written symbols, and typesetting
// long decimal numbers so that they fit on the page.
//
// Internal to the exporters (the CLI uses symbol checking to report errors at the symbol's
// location); not part of the stable API.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

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
///   `delta_o1` -> `\delta_{o1}`, `W_1_2` -> `W_{1,2}`.
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
/// The digits are copied, never re-read as a binary number. Throws std::invalid_argument when
/// `shown` is not a decimal number.
[[nodiscard]] std::string math_number(std::string_view shown, const number_format& format = {});

/// True when `shown` starts with a minus sign (so a caller can parenthesise it after an
/// operator: `0.05 + (-0.019)`).
[[nodiscard]] bool is_negative(std::string_view shown) noexcept;

/// `shown` cut (not rounded) to at most `significant` significant digits, keeping its
/// exponent, for plot coordinates that pgfplots reads with its own limited float parser.
[[nodiscard]] std::string plot_number(std::string_view shown, std::size_t significant = 8);

}  // namespace chainrule::exporters::latex_text
