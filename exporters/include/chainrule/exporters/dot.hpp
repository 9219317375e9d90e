// SPDX-License-Identifier: MIT
// The computational graph of a trace as Graphviz DOT text: one node per quantity with its value and
// gradient, edges labelled with local partials, laid out left to right by layer. Turn the text
// into SVG/PNG/PDF with render_dot (graphviz.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "chainrule/trace/document.hpp"

namespace chainrule::exporters {

struct dot_options {
  /// Which traced iteration's values to draw (iteration::index, 1-based). Unset: the first traced
  /// iteration, i.e. the values before its update. A document without traced iterations is drawn
  /// with its final forward pass and no gradients.
  std::optional<std::uint64_t> iteration;
  /// Names of quantities (usually parameters, e.g. "w1") whose chain-rule paths from the loss are
  /// drawn in colour, each edge labelled with its factor; a caption under the graph repeats the
  /// chain-rule equations of the trace's derivation with their values.
  std::vector<std::string> highlight;
  /// Draw every engine node, including unnamed intermediates and literals, instead of folding
  /// them into the named quantity that consumes them.
  bool show_intermediates = false;
  /// Print numbers at full working precision (number::exact) instead of the display rounding
  /// (number::shown).
  bool exact = false;
  /// Show each computed quantity's formula ("net_h1 = w1*i1 + w2*i2 + b1") in its node.
  bool formulas = true;
  /// Print the local partial on every edge (highlighted edges always carry theirs).
  bool edge_partials = true;
  /// The key to the node colours and shapes, under the graph.
  bool legend = true;
  /// The DOT graph name (the SVG <title>). Any text; it is quoted and escaped.
  std::string graph_name = "chainrule";
};

/// The graph of `doc` as DOT text. Deterministic: the same document and options give the same
/// bytes. Every name is escaped, so a quantity named `<b>"x"</b>` is shown literally.
///
/// Nodes: inputs (blue boxes), targets (amber, dashed), parameters (green, rounded, thick),
/// constants (grey, dotted), computed quantities (white ovals) and the loss (red, double border).
/// Each shows its name, its formula, its value and its gradient d loss / d node. Nodes of one
/// layer (quantity::rank) share a column.
///
/// @throws std::invalid_argument if `options.iteration` was not traced, a highlighted name is not
/// a quantity drawn in the graph, or the document's per-iteration vectors do not match its
/// quantities and edges.
std::string to_dot(const trace::document& doc, const dot_options& options = {});

}  // namespace chainrule::exporters
