// SPDX-License-Identifier: MIT
// `chainrule check MODEL ANSWERS`: a student's hand calculation against the exact worked example.
#pragma once

#include <string>

#include "chainrule/check/check.hpp"
#include "pipeline.hpp"

namespace chainrule::cli {

struct check_outputs {
  std::string json;   ///< write the report as JSON here
  std::string latex;  ///< write the feedback sheet as LaTeX here
  std::string pdf;    ///< compile the feedback sheet to PDF here
};

/// The feedback sheet: a standalone LaTeX document, the student's line next to the right one,
/// then the details of every answer that is not correct and the summary.
[[nodiscard]] std::string feedback_sheet(const check::report& r);

/// Runs the check, prints the text report on stdout, writes the requested files. The model is
/// loaded and trained within `limits`, as by `chainrule run`. Throws lang::model_error for a bad
/// model, bad answers or a model over the limits, exporters::output_error for a destination that
/// would replace an input.
int check_command(const std::string& model_file, const std::string& answers_file,
                  const check_outputs& outputs, const run_limits& limits);

}  // namespace chainrule::cli
