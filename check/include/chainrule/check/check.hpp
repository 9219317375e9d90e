// SPDX-License-Identifier: MIT
// `chainrule check`: a student's hand calculation against the exact worked example.
//
// Every answer gets one verdict (docs/check.md has the full rules):
//   correct      the exact value rounded the way the student rounded (their number of decimals;
//                half-up, half-even or truncation);
//   drift        not that, but what follows from the student's own earlier rounded numbers, or
//                within one unit of the last digit the student wrote (rounded intermediates
//                carried on);
//   wrong        not what this step gives even from the student's own inputs: the report shows
//                the formula, the student's inputs substituted, the right result and a likely
//                cause when one is recognisable;
//   carried      wrong, but what the step gives from the student's own wrong inputs: the error
//                began at `origin`.
// Recomputations use the engine at the model's precision, never double for a decimal model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chainrule/check/answers.hpp"
#include "chainrule/lang/model.hpp"

namespace chainrule::check {

enum class verdict : std::uint8_t { correct, drift, wrong, carried };

/// "correct", "rounding drift", "wrong here", "follows from an earlier error".
[[nodiscard]] std::string_view describe(verdict v) noexcept;
/// "correct", "drift", "wrong", "carried": for JSON.
[[nodiscard]] std::string_view to_string(verdict v) noexcept;

struct checked_answer {
  answer given;  ///< the line as parsed
  verdict result = verdict::correct;
  std::string key;  ///< canonical name ("dE_total/dw5", "w5+", "E_total@2")
  /// The exact value rounded half-even to the student's number of decimals ("0.5933"), and the
  /// exact value at the model's display setting.
  std::string exact_rounded;
  std::string exact_shown;
  /// The step's formula in the model's names ("out_h1*(1 - out_h1)"), the same with the
  /// student's values substituted (the exact value where the student gave none), and its result
  /// at the student's number of decimals. Empty when the step has no formula to redo (a given
  /// value, a derivative taken only as a whole).
  std::string formula;
  std::string formula_with_given;
  std::string from_given;
  /// Why: a likely cause for a wrong answer, the reason for drift, the origin for a carried error.
  std::string explanation;
  /// For carried: index (into report::answers) of the answer where the error began.
  std::optional<std::size_t> origin;
  /// Findings in the working shown on the line (typos in the numbers used, arithmetic slips);
  /// reported whatever the verdict.
  std::vector<std::string> notes;
};

struct summary {
  std::size_t checked = 0;
  std::size_t correct = 0;
  std::size_t drift = 0;
  std::size_t wrong = 0;
  std::size_t carried = 0;
  std::size_t missing = 0;
  std::size_t working_notes = 0;
  /// Marks under the documented rule: one per checked answer except "wrong here" (an error
  /// costs its mark once, where it was made; what follows from it is marked on method).
  std::size_t marks = 0;
};

struct report {
  std::string model_file;
  std::string answers_file;
  std::string precision;  ///< "50 digits" or "double"
  std::string
      update_order;  ///< "simultaneous", "sequential", or empty when the model does not train
  std::vector<checked_answer> answers;  ///< in the order of the file
  /// Steps of the worked example the student did not give (not counted wrong), canonical names.
  std::vector<std::string> missing;
  summary totals;
};

/// Checks `answers` against `model`. Throws lang::model_error for answers that cannot be checked
/// (unknown names with suggestions, duplicates, iterations the model does not run), each located
/// in the answers file, and for a model that cannot be run.
[[nodiscard]] report check_answers(const lang::checked_model& model, const answers_file& answers);

/// The report as text: one line per answer, details for every answer that is not correct or that
/// has notes, then the missing steps, the summary and the score.
[[nodiscard]] std::string to_text(const report& r);

/// The report as JSON (UTF-8, keys in a fixed order, deterministic).
[[nodiscard]] std::string to_json(const report& r);

}  // namespace chainrule::check
