// SPDX-License-Identifier: MIT
// From a .chain file to a trace document: parse, check the symbols, check the model, apply the
// command line's number settings, lower to an engine graph, train or differentiate, record.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "chainrule/lang/diagnostics.hpp"
#include "chainrule/lang/model.hpp"
#include "chainrule/lang/parser.hpp"
#include "chainrule/trace/document.hpp"
#include "chainrule/trace/show.hpp"

namespace chainrule::cli {

/// A command-line setting that cannot work with this model (a precision over the run's limit, a
/// certification limit below the model's precision): a usage error, exit code 2.
class settings_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Number settings from the command line; each one given replaces the file's directive.
struct number_settings {
  /// "double", or the number of significant decimal digits ("100").
  std::optional<std::string> precision;
  std::optional<unsigned> decimals;  ///< display N decimals
  std::optional<unsigned> digits;    ///< display N significant digits
  /// Certify every number shown (docs/certify.md): run again at rising precision, up to this
  /// many significant digits, until consecutive runs certify every number. Empty: one run.
  std::optional<unsigned> certify_max_digits;
};

/// Resource limits of one run, so that a hostile or mistaken file gets a clear error instead of
/// exhausting memory or time (docs/language.md "Limits"). Each has a command-line flag.
struct run_limits {
  lang::parse_limits parse;  ///< file size, bracket nesting
  /// Lowers the language's own ceiling (lang::max_precision_digits) for this run.
  unsigned max_precision_digits = lang::max_precision_digits;
  /// Graph nodes: scalar declarations plus expression nodes after vectors are written out.
  std::uint64_t max_nodes = 2'000'000;
  /// Training steps times graph nodes: bounds the time a run can take.
  std::uint64_t max_work = 1'000'000'000;
  /// Traced steps times graph nodes: bounds the size of the worked example kept in memory.
  std::uint64_t max_trace = 10'000'000;
  /// Numbers, names and operations of one `show` derivative written out (its text and LaTeX).
  std::uint64_t max_shown_size = trace::default_max_shown_size;
};

/// What a run reports while it trains, outside the document (the `--progress` display).
struct run_feedback {
  /// Called during training with the update just made, the number of updates, and the loss that
  /// update was computed from as display text. Empty: nothing is reported.
  std::function<void(std::uint64_t update, std::uint64_t total, const std::string& loss)> progress;
};

struct model_run {
  trace::document document;
  /// Every file the run read (the model and its CSV data sets): outputs may not replace them.
  std::vector<std::filesystem::path> inputs;
  /// Warnings of the checker, for stderr.
  std::vector<lang::diagnostic> warnings;
  /// With --certify: what the certification found, one line each, for stderr.
  std::vector<std::string> certify_report;
};

/// Runs the model in `file`. `title` replaces the title taken from the file (its first comment
/// line, or else the file name).
///
/// Throws lang::model_error for anything wrong with the model, located in the file where
/// possible: syntax and check errors, unsafe LaTeX in a `symbol` line, values that cannot be
/// computed, optimizer settings the training run rejects, a model over one of the `limits`.
/// Throws settings_error for a `precision` setting out of range, and for a certification limit no
/// higher than the model's own precision.
[[nodiscard]] model_run run_model(const std::filesystem::path& file, const number_settings& numbers,
                                  const std::optional<std::string>& title,
                                  const run_limits& limits = {}, const run_feedback& feedback = {});

/// A model file parsed and checked for a command that does not run it through run_model
/// (`derive`, `check`): the program keeps the source, so errors found later can show their line.
struct loaded_model {
  lang::program program;
  lang::checked_model model;
};

/// What run_model does before it builds the graph: parses `file` within `limits.parse`, checks
/// it (and the LaTeX of its `symbol` lines), applies `numbers`, and refuses a model over the
/// precision or graph-node limit. Throws as run_model does.
[[nodiscard]] loaded_model load_model(const std::filesystem::path& file,
                                      const number_settings& numbers, const run_limits& limits);

/// Refuses, with a lang::model_error at the `train` line, running its updates one row each
/// (declared values, no data set) over `limits.max_work`, or recording the updates `traced`
/// selects over `limits.max_trace`. Nothing for a model that does not train.
void check_training_limits(const loaded_model& loaded, const lang::trace_setting& traced,
                           const run_limits& limits);

}  // namespace chainrule::cli
