// SPDX-License-Identifier: MIT
// A student's answers to a worked example, as typed: one `name = number` per line.
//
//     # forward pass
//     net_h1 = 0.3775
//     out_h1 = .5933                        # leading point is fine, so is 5.933e-1
//     dE_total/dw5 = 0.082167041            # also ∂E_total/∂w5 and d(E_total)/d(w5)
//     w5+ = 0.35891648                      # updated value; w5' means the same
//     E_total@2 = 0.291027774               # iteration qualifier: the forward pass of step 2
//     E_o1 = 1/2*(0.01 - 0.75136507)^2 = 0.274811083   # working shown before the result
//
// Parsing needs no model and does no I/O (parse_answers), so it can be fed any text; names are
// matched against a model later, by check_answers (check.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "chainrule/lang/diagnostics.hpp"

namespace chainrule::check {

/// What a left-hand side names.
enum class answer_kind : std::uint8_t {
  value,       ///< a quantity's value in the forward pass (`out_h1`), or a given value (`w5`)
  derivative,  ///< d(of)/d(wrt) (`dE_total/dw5`, `dout_o1/dnet_o1`)
  updated,     ///< a parameter after the update of an iteration (`w5+`, `w5'`)
};

/// A left-hand side in canonical form: `∂E/∂w5`, `d(E)/d(w5)` and `dE/dw5` are the same key, as
/// are `w5'` and `w5+`, and `x[2]` and `x_2`.
struct answer_key {
  answer_kind kind = answer_kind::value;
  std::string of;   ///< the quantity (value, updated) or the differentiated quantity (derivative)
  std::string wrt;  ///< derivative only: the variable
  /// 1-based. For values and derivatives: the forward/backward pass run with the parameters after
  /// iteration - 1 updates; for updated values: the iteration whose update it is.
  std::uint64_t iteration = 1;

  friend bool operator==(const answer_key&, const answer_key&) = default;
  friend auto operator<=>(const answer_key&, const answer_key&) = default;
};

/// "dE_total/dw5", "w5+", "E_total@2": how messages and reports write a key.
[[nodiscard]] std::string to_string(const answer_key& key);

/// One node of a student's arithmetic (the working between `=` signs), in postfix order:
/// operands come before the operation that uses them.
struct working_node {
  enum class kind : std::uint8_t { number, euler, add, sub, mul, div, neg, pow, function };
  kind op = kind::number;
  /// number: the text as typed; function: its name (exp, log, ln, sqrt, sigmoid, tanh).
  std::string text;
  lang::source_location location;
};

/// The arithmetic a student wrote between the name and the result
/// (`0.4 - 0.5*0.082167041` in `w5+ = 0.4 - 0.5*0.082167041 = 0.35891648`).
struct working {
  std::string text;
  lang::source_location location;
  std::vector<working_node> postfix;
};

struct answer {
  answer_key key;
  std::string written;  ///< the left-hand side as typed ("∂E_total/∂w5")
  lang::source_location name_location;
  std::string number;  ///< the result as typed ("0.5933", ".5933", "5.933e-1")
  lang::source_location number_location;
  std::vector<working> workings;  ///< zero or more stages of working, left to right
  std::string source_line;
};

struct answers_file {
  std::string file_name;
  std::vector<answer> answers;
  /// Syntax errors, each with file:line:column, what is wrong and what would be right.
  std::vector<lang::diagnostic> diagnostics;

  [[nodiscard]] bool ok() const noexcept { return diagnostics.empty(); }
};

/// Files larger than this are refused (a hand calculation is a few hundred lines).
inline constexpr std::size_t max_answers_bytes = std::size_t{1} << 20;
/// Parentheses nested deeper than this in a working line are refused (the parser recurses).
inline constexpr int max_working_depth = 64;

/// Parses answers from memory. Never throws for bad text: every problem becomes a diagnostic
/// (several per file; at most one per line). Duplicates and unknown names are not checked
/// here (they need the model): see check_answers.
[[nodiscard]] answers_file parse_answers(std::string_view text, std::string file_name);

/// Reads and parses a file; an unreadable file is one diagnostic without a line.
[[nodiscard]] answers_file read_answers(const std::filesystem::path& file);

}  // namespace chainrule::check
