// SPDX-License-Identifier: MIT
// The three workloads. Each prints its figures, appends its targets to `verdicts` and returns
// false when the engine and the hand-written code disagree (a wrong result, not a slow one).
#pragma once

#include <vector>

#include "measure.hpp"

namespace chainrule::bench {

/// W1: micrograd-style MLP 2-16-16-1 on two moons, hinge loss, 100 full-batch steps, double.
bool run_mlp(const options& opt, std::vector<verdict>& verdicts);
/// W2: Mazur's 2-2-2 network, 10,000 SGD steps, at double, 50 and 100 digits.
bool run_mazur(const options& opt, std::vector<verdict>& verdicts);
/// W3: a chain of 10 million scalar nodes: ns and bytes per node, double.
bool run_chain(const options& opt, std::vector<verdict>& verdicts);

}  // namespace chainrule::bench
