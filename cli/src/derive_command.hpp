// SPDX-License-Identifier: MIT
// `chainrule derive FILE OF WRT...`: the symbolic derivative of a quantity of a model, simplified
// and printed with its value (docs/symbolic.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "pipeline.hpp"

namespace chainrule::cli {

struct derive_options {
  std::string file;
  std::string of;                ///< the quantity differentiated, e.g. E_total
  std::vector<std::string> wrt;  ///< one name per order: w1 w2 is d2(of)/d(w1)d(w2)
  std::string form = "plain";    ///< plain, latex or c
  /// The file's size and nesting, its precision and graph nodes, and the derivative written out
  /// (max_shown_size); the training limits do not apply, nothing is trained.
  run_limits limits;
};

/// Registers the `derive` subcommand on `app`, filling `options` when it is parsed (the limits'
/// flags are added by the caller, as for the other commands).
CLI::App* add_derive_command(CLI::App& app, derive_options& options);

/// Loads the model (no training), derives, prints on stdout. Throws lang::model_error for a bad
/// model and std::runtime_error naming the quantities for a name the model does not have.
int derive_command(const derive_options& options);

}  // namespace chainrule::cli
