// SPDX-License-Identifier: MIT
// Evaluating a (trained) graph on a data set: predictions, mean loss and, for classifiers,
// accuracy, per-class precision/recall/F1, macro averages and the confusion matrix.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chainrule/engine/graph.hpp"
#include "chainrule/engine/mpfr.hpp"
#include "chainrule/trace/document.hpp"
#include "chainrule/trace/train.hpp"

namespace chainrule::trace {

struct evaluation_options {
  std::string data_set;          ///< its name, for the document
  training_data data;            ///< the rows (columns are input/target nodes)
  std::vector<node_id> outputs;  ///< the evaluated quantity's scalars
  std::vector<node_id> targets;  ///< what they are compared with
  number_format display = number_format::decimals(9);
  std::size_t listed_rows = 20;  ///< per-row predictions for sets up to this many rows
  unsigned exact_digits = 0;     ///< of number::exact; 0: the graph's precision (record_options)
};

/// Which classifier `outputs` and `targets` make over `values` (row-major over `columns`), as
/// documented on evaluation::classifier; "" when none.
std::string classifier_kind(std::size_t outputs, const std::vector<std::size_t>& target_columns,
                            std::size_t columns, const std::vector<std::string>& values);

/// Accuracy, per-class metrics, macro averages and confusion matrix of `actual` against
/// `predicted` (class indices below `classes`), written into `out` (whose classes are set). The
/// ratios are computed exactly and printed with `display` at 17 significant digits for `exact`.
void classification_metrics(const std::vector<std::uint32_t>& actual,
                            const std::vector<std::uint32_t>& predicted, evaluation& out,
                            const number_format& display);

/// Runs `g` forward on every row (no backward pass, nothing updated) and fills an evaluation.
/// Throws usage_error when a column is not an input, or an output or target is not a node.
template <real_number Real>
evaluation evaluate(graph<Real>& g, node_id loss, const evaluation_options& options);

extern template evaluation evaluate<double>(graph<double>&, node_id, const evaluation_options&);
extern template evaluation evaluate<mp_real>(graph<mp_real>&, node_id, const evaluation_options&);

}  // namespace chainrule::trace
