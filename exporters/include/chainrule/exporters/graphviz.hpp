// SPDX-License-Identifier: MIT
// Rendering DOT text to SVG, PNG or PDF in-process through Graphviz's C libraries (cgraph + gvc),
// without running the `dot` program.
//
// Graphviz is not thread-safe (not even with one context per thread), so every function here
// takes one process-wide lock; they may be called from any thread.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chainrule::exporters {

/// Graphviz could not parse, lay out or render a graph, or its plugins are not installed. The
/// message includes Graphviz's own diagnostics (e.g. "syntax error in line 3 near '}'").
class graphviz_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The formats render_dot produces.
enum class image_format { svg, png, pdf };

/// "svg", "png" or "pdf": the usual file extension (without the dot).
std::string_view format_name(image_format format) noexcept;

/// The inverse of format_name ("svg", "png", "pdf", lower case); nullopt for anything else.
std::optional<image_format> parse_image_format(std::string_view name) noexcept;

/// Lays out `dot` with Graphviz's `dot` engine and renders it: SVG text, or the bytes of a PNG or
/// PDF file. SVG comes from Graphviz's core renderer, PNG and PDF from its cairo plugin.
///
/// Deterministic: identical input gives byte-identical output in any process, whatever was
/// rendered before. Anonymous graphs get the same name every time (Graphviz's default names them
/// from a process-wide counter), and the creation date cairo writes into a PDF is replaced by
/// 1970-01-01T00:00:00.
///
/// @throws graphviz_error when the text is not valid DOT, or when the layout or renderer plugin is
/// missing (the message then says to run `dot -c` as root, which registers the plugins).
std::string render_dot(std::string_view dot, image_format format);

/// One node, edge or subgraph as cgraph read it.
struct dot_object {
  /// Node or subgraph name; for an edge "tail -> head" ("tail -- head" in an undirected graph).
  std::string name;
  /// Every attribute declared in the graph, with this object's value (the declared default when
  /// the object sets none). HTML-like labels appear without their outer `<` `>`.
  std::map<std::string, std::string, std::less<>> attributes;
  /// The attribute names whose value is an HTML-like string (`label=<...>`).
  std::vector<std::string> html_attributes;
  /// Subgraphs only: the names of the nodes in the subgraph (nested subgraphs' nodes included),
  /// in the graph's node order.
  std::vector<std::string> nodes;
  /// Subgraphs only: the name of the enclosing subgraph, empty for a child of the root graph.
  std::string parent;
};

/// A DOT graph as cgraph parsed it, for checking what a DOT writer produced.
struct dot_graph {
  std::string name;
  bool directed = false;
  bool strict = false;
  /// The root graph's own attributes (rankdir, label, ...).
  std::map<std::string, std::string, std::less<>> attributes;
  std::vector<dot_object> nodes;      ///< in cgraph's order (creation order)
  std::vector<dot_object> edges;      ///< grouped by tail node, in cgraph's order
  std::vector<dot_object> subgraphs;  ///< depth first, parents before children
};

/// Parses `dot` with cgraph (no layout) and describes it.
/// @throws graphviz_error when the text is not valid DOT.
dot_graph parse_dot(std::string_view dot);

}  // namespace chainrule::exporters
