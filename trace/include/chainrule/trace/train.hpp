// SPDX-License-Identifier: MIT
// Training a graph and tracing it: the run that fills a document's iterations, loss history and
// final state.
//
// The graph is built once; each step sets the data row (if any), runs forward() and backward(),
// and lets the optimizer update the parameters in place. Untraced steps allocate nothing: every
// number they touch (optimizer state, loss history, the sequential order's recomputed partials and
// adjoints) is made before the first step.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chainrule/engine/graph.hpp"
#include "chainrule/engine/mpfr.hpp"
#include "chainrule/engine/optimizer.hpp"
#include "chainrule/trace/document.hpp"
#include "chainrule/trace/record.hpp"

namespace chainrule::trace {

/// Which iterations (1-based) are traced in full. Without anything set, none is.
struct trace_selection {
  bool first = true;
  bool last = true;
  bool all = false;
  std::uint64_t every = 0;           ///< 0: not used; k: iterations k, 2k, ...
  std::vector<std::uint64_t> steps;  ///< explicit iteration numbers

  bool selects(std::uint64_t iteration, std::uint64_t total) const;
  /// "first, last, every 100, 7": for settings::traced_description.
  std::string describe() const;
};

/// Rows of values for input/target leaves. With batches of B rows (run_options::batch_size),
/// the rows are cut into ceil(rows / B) batches in order, the last one short when B does not
/// divide the number of rows; update k uses batch (k - 1) mod ceil(rows / B), so `steps` =
/// epochs * ceil(rows / B) trains for that many epochs. With B = 1 update k uses row
/// (k - 1) mod rows. The final forward pass keeps the last row used.
struct training_data {
  std::vector<node_id> columns;
  std::vector<std::string> values;  ///< exact decimal text, row-major
};

/// How the rows of a batch combine into one update: the gradients and the losses are added, or
/// averaged over the rows of that batch (a short last batch divides by its own size).
enum class batch_reduction : std::uint8_t { sum, mean };

/// run_options::batch_size for "every row of the data set in one batch".
inline constexpr std::uint64_t full_batch = 0;

/// Validation while training: after every `every` updates the objective's mean over the rows of
/// `data` is computed with the parameters as they are (forward passes only, before_evaluation
/// called first, the data columns' values put back afterwards) and recorded in
/// document::validation. With `patience` P > 0, training stops after the validation that is the
/// P-th in a row not strictly lower than the best so far. With restore_best the parameters
/// after the best validation are put back before the final forward pass.
///
/// When training stops early and `last` is traced, the update it stops after is traced: before
/// an update that could be the last (a validation follows it and P - 1 validations have not
/// improved), the parameters and the optimizer state are copied; if it is the last, they are put
/// back and the update is run again with tracing, which computes the same numbers.
struct validation_options {
  std::string data_set;  ///< its name, for the document
  training_data data;
  std::uint64_t every = 0;     ///< 0: every epoch of the training data (every update without it)
  std::uint64_t patience = 0;  ///< 0: record the curve only
  bool restore_best = false;
};

struct run_options {
  record_options record;
  optimizer_config optimizer;
  std::uint64_t steps = 1;
  update_order order = update_order::simultaneous;
  trace_selection trace;
  training_data data;
  /// Called before update k's forward pass (k = 1, 2, ...), after its data row is set, and
  /// before_evaluation before the final forward pass: for leaves that differ between training
  /// updates and evaluation, such as dropout masks (lang/dropout.hpp). Either may be empty.
  std::function<void(std::uint64_t)> before_update;
  std::function<void()> before_evaluation;
  /// In an update of several rows, called before row `row` (0-based within the batch) of update
  /// k runs its forward pass, after before_update(k): for leaves that differ per sample, such as
  /// seeded dropout masks (each row of a batch draws its own). Not called for per-sample updates,
  /// for validation or in the final pass. May be empty.
  std::function<void(std::uint64_t k, std::uint64_t row)> before_batch_row;
  /// Rows per update; full_batch for all of them. More than one row needs training data, the
  /// simultaneous order and a gradient optimizer (the perceptron rule is per sample).
  std::uint64_t batch_size = 1;
  batch_reduction reduction = batch_reduction::sum;
  std::optional<validation_options> validation;
  /// For a progress display, never part of the document: called after update k (of `total`)
  /// with the loss that update was computed from, as display text, every progress_every updates
  /// (0: about a hundred times per run) and after the last one. Empty: never called.
  std::function<void(std::uint64_t update, std::uint64_t total, const std::string& loss)>
      on_progress;
  std::uint64_t progress_every = 0;
};

/// Number of updates in one pass over `rows` rows with batches of `batch_size` (full_batch: 1).
std::uint64_t batches_per_epoch(std::uint64_t rows, std::uint64_t batch_size) noexcept;

/// A training run over `g`, prepared once. Throws usage_error for settings that cannot work (an
/// unknown optimizer or hyper-parameter, a data column that is not an input, a perceptron model
/// without a step output or target).
///
/// The perceptron rule w <- w + lr (d - y) x needs no gradient of the loss: y is the model's one
/// step() node upstream of the loss, d the one target (record_options::targets) upstream of the
/// loss, and x = d net/d w for net the input of the step node (the input feeding w, 1 for a bias).
/// The loss is only reported.
template <real_number Real>
class trainer {
 public:
  trainer(graph<Real>& g, node_id loss, run_options options);
  ~trainer();
  trainer(const trainer&) = delete;
  trainer& operator=(const trainer&) = delete;

  /// Runs options.steps iterations, tracing the selected ones, then a final forward pass, and
  /// returns the document (model, settings, traced iterations, loss history, final state).
  /// Once per trainer (usage_error the second time).
  document run();

  /// One more iteration outside run()'s bookkeeping (nothing recorded): for benchmarks and for
  /// callers that only want the trained parameters. Allocates nothing.
  void step();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// trainer(g, loss, options).run().
template <real_number Real>
document run(graph<Real>& g, node_id loss, const run_options& options);

extern template class trainer<double>;
extern template class trainer<mp_real>;
extern template document run<double>(graph<double>&, node_id, const run_options&);
extern template document run<mp_real>(graph<mp_real>&, node_id, const run_options&);

}  // namespace chainrule::trace
