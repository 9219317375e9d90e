// SPDX-License-Identifier: MIT
// Checking reverse-mode gradients against central finite differences at higher precision.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "chainrule/engine/convert.hpp"
#include "chainrule/engine/graph.hpp"
#include "chainrule/engine/mpfr.hpp"

namespace chainrule {

struct gradient_check_options {
  /// Digits of the reference computation; 0 means 2 * digits + 20 of the checked graph.
  unsigned reference_digits = 0;
  /// Digits shown in the report's strings.
  int shown_digits = 20;
};

/// One leaf's verdict.
struct gradient_check_entry {
  node_id leaf;
  std::string name;        ///< the leaf's name, or "node N"
  std::string analytic;    ///< d output / d leaf from backward(), shown_digits significant digits
  std::string numeric;     ///< the central difference at reference precision, likewise
  double agreeing_digits;  ///< -log10 of the error relative to max(1, |numeric|), capped at digits
};

/// Runs g.backward(output), then for every leaf (but integer exponents) compares the adjoint with
/// (f(x + h) - f(x - h)) / 2h computed on a copy of the graph at reference precision, with
/// h = 10^(-reference_digits/3) max(1, |x|) so that truncation and rounding errors both stay far
/// below the checked precision.
template <real_number Real>
std::vector<gradient_check_entry> check_gradients(graph<Real>& g, node_id output,
                                                  const gradient_check_options& options = {}) {
  g.backward(output);
  const unsigned ref_digits =
      options.reference_digits != 0 ? options.reference_digits : 2 * g.digits() + 20;
  auto reference = convert_graph<mp_real>(g, ref_digits);
  scalar_traits<mp_real>::precision_scope scope(ref_digits);
  const mp_real h_scale = pow(mp_real(10), -static_cast<long>(ref_digits / 3));
  const auto show = number_format::significant(options.shown_digits);

  // Integer exponents are not differentiable quantities (their partial is 0 by convention, and
  // x^(n + h) of a negative x is not real): they are not perturbed.
  std::vector<bool> integer_exponent(g.size(), false);
  for (std::size_t i = 0; i < g.size(); ++i) {
    const auto id = static_cast<node_id>(i);
    if (g.op_of(id) == op::powi) integer_exponent[static_cast<std::size_t>(g.inputs(id)[1])] = true;
  }

  std::vector<gradient_check_entry> report;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const auto id = static_cast<node_id>(i);
    if (!is_leaf(g.op_of(id)) || integer_exponent[i]) continue;
    const mp_real x = reference->value(id);
    const mp_real h = h_scale * std::max(mp_real(1), mp_real(abs(x)));
    reference->set_value(id, mp_real(x + h));
    reference->forward();
    const mp_real f_plus = reference->value(output);
    reference->set_value(id, mp_real(x - h));
    reference->forward();
    const mp_real f_minus = reference->value(output);
    reference->set_value(id, x);
    const mp_real numeric = (f_plus - f_minus) / (2 * h);

    const std::string analytic_text = scalar_traits<Real>::exact(g.adjoint(id));
    const mp_real analytic = scalar_traits<mp_real>::from_decimal(analytic_text, ref_digits);
    const mp_real error = abs(analytic - numeric) / std::max(mp_real(1), mp_real(abs(numeric)));
    double agreeing = static_cast<double>(g.digits());
    if (error != 0) agreeing = std::min(agreeing, static_cast<double>(-log10(error)));

    const auto leaf_name = g.name(id);
    report.push_back({id, leaf_name.empty() ? "node " + std::to_string(i) : std::string(leaf_name),
                      g.format(g.adjoint(id), show), scalar_traits<mp_real>::format(numeric, show),
                      agreeing});
  }
  reference->forward();
  return report;
}

}  // namespace chainrule
