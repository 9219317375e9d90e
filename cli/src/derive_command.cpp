// SPDX-License-Identifier: MIT
#include "derive_command.hpp"

#include <fmt/format.h>

#include <iostream>
#include <stdexcept>

#include "chainrule/engine/engine.hpp"
#include "chainrule/lang/lower.hpp"
#include "chainrule/lang/parser.hpp"

namespace chainrule::cli {

CLI::App* add_derive_command(CLI::App& app, derive_options& options) {
  CLI::App* derive = app.add_subcommand(
      "derive",
      "Print the symbolic derivative of a quantity, simplified, with named quantities shown by "
      "name, and its value at the model's values (no training is run). Several WRT give a "
      "higher derivative: 'derive m.chain E_total w1 w2' is d2(E_total)/d(w1)d(w2)");
  derive->add_option("FILE", options.file, "The .chain model")
      ->required()
      ->check(CLI::ExistingFile);
  derive->add_option("OF", options.of, "The quantity to differentiate, e.g. E_total")->required();
  derive
      ->add_option("WRT", options.wrt, "The quantity (or quantities, in order) to differentiate by")
      ->required();
  derive->add_option("--form", options.form, "How the expression is written: plain, latex or c")
      ->check(CLI::IsMember({"plain", "latex", "c"}));
  return derive;
}

namespace {

// Written as `show` takes it and the LaTeX exporter prints it: a run of the same variable is a
// power, d2(E_total)/d(w1)^2 and \partial w_{1}^{2}.
std::string derivative_name(const derive_options& o, bool latex) {
  const std::size_t order = o.wrt.size();
  std::string bottom;
  for (std::size_t k = 0; k < order;) {
    std::size_t run = 1;
    while (k + run < order && o.wrt[k + run] == o.wrt[k])
      ++run;
    const std::string power = run == 1 ? ""
                              : latex  ? "^{" + std::to_string(run) + "}"
                                       : "^" + std::to_string(run);
    if (latex) {
      bottom += (bottom.empty() ? "" : "\\,") + std::string("\\partial ") +
                symbolic::latex_name_of(o.wrt[k]) + power;
    } else {
      bottom += "d(" + o.wrt[k] + ")" + power;
    }
    k += run;
  }
  if (latex) {
    const std::string power = order > 1 ? "^{" + std::to_string(order) + "}" : "";
    return "\\frac{\\partial" + power + " " + symbolic::latex_name_of(o.of) + "}{" + bottom + "}";
  }
  return (order > 1 ? "d" + std::to_string(order) : std::string("d")) + "(" + o.of + ")/" + bottom;
}

template <class Real>
int derive_in(const lang::checked_model& m, const derive_options& o) {
  lang::lowered_model<Real> low = lang::lower<Real>(m);
  graph<Real>& g = *low.graph;
  auto node_of = [&](const std::string& name) {
    const auto found = low.nodes.find(name);
    if (found != low.nodes.end()) return var<Real>(&g, found->second);
    std::string known;
    for (const auto& [n, id] : low.nodes)
      known += (known.empty() ? "" : ", ") + n;
    throw std::runtime_error(fmt::format("derive: {} has no quantity '{}'; its quantities are: {}",
                                         o.file, name, known));
  };
  var<Real> d = node_of(o.of);
  for (const auto& w : o.wrt)
    d = derive(g, d, node_of(w));
  const symbolic::expression e = symbolic::simplify(symbolic::expression_of(g, d.id(), false));
  if (const std::uint64_t size = symbolic::printed_size(e); size > o.limits.max_shown_size) {
    throw std::runtime_error(fmt::format(
        "derive: {}, written out, has {} numbers, names and operations, more than the {} "
        "allowed; derive a lower order or a named intermediate quantity, or raise "
        "--max-shown-size",
        derivative_name(o, false), size, o.limits.max_shown_size));
  }
  const std::string value = low.format(d.value());
  if (o.form == "latex") {
    std::cout << derivative_name(o, true) << " = " << symbolic::to_latex(e) << " = " << value
              << "\n";
  } else if (o.form == "c") {
    std::cout << "/* " << derivative_name(o, false) << " = " << value << " */\n"
              << symbolic::to_c(e) << "\n";
  } else {
    const std::string name = derivative_name(o, false);
    std::cout << name << " = " << symbolic::to_text(e) << "\n"
              << std::string(name.size(), ' ') << " = " << value << "\n";
  }
  std::cout.flush();
  return std::cout ? 0 : 1;
}

}  // namespace

int derive_command(const derive_options& options) {
  const loaded_model loaded = load_model(options.file, {}, options.limits);
  const lang::checked_model& m = loaded.model;
  return m.precision.binary_double ? derive_in<double>(m, options) : derive_in<mp_real>(m, options);
}

}  // namespace chainrule::cli
