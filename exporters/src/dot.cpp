// SPDX-License-Identifier: MIT
#include "chainrule/exporters/dot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <map>
#include <string_view>

namespace chainrule::exporters {

namespace {

using trace::quantity_index;

// ---- escaping -----------------------------------------------------------------------------------

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not valid (overlong forms,
// surrogates and values above U+10FFFF included). Graphviz rejects invalid UTF-8 with a warning
// and garbles the label, so names are repaired before they reach it.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned min_second = 0x80;
  unsigned max_second = 0xBF;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) min_second = 0xA0;
    if (lead == 0xED) max_second = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) min_second = 0x90;
    if (lead == 0xF4) max_second = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
  for (std::size_t k = i + 2; k < i + length; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  }
  return length;
}

// Text for an HTML-like label: the five markup characters become entities, control characters
// and invalid UTF-8 become U+FFFD, so no name can open a tag or end the label. Graphviz also
// expands \N, \G, \E, \T, \H, \L in label text (entities are decoded first, so &#92; does not
// help); it reads a doubled backslash as one, so backslashes are doubled.
void append_html(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += replacement_character;
      ++i;
      continue;
    }
    if (length > 1) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          out += replacement_character;
        } else {
          out += c;
        }
    }
    ++i;
  }
}

std::string html(std::string_view text) {
  std::string out;
  append_html(out, text);
  return out;
}

// A DOT double-quoted string, used for the graph name and tooltips. Graphviz decodes entities in
// tooltips, then expands \N and friends and drops other backslashes, over several passes, so no
// escaping of a backslash survives: it is shown as U+29F5 REVERSE SOLIDUS OPERATOR instead (node
// labels, where the name matters, show it exactly). '&' becomes &amp; so that a name that looks
// like an entity is shown as written.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += replacement_character;
      ++i;
      continue;
    }
    const char c = text[i];
    if (length > 1) {
      out.append(text.substr(i, length));
    } else if (c == '\\') {
      out += "\u29F5";
    } else if (c == '&') {
      out += "&amp;";
    } else if (c == '"') {
      out += "\\\"";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      out += replacement_character;
    } else {
      out += c;
    }
    i += length;
  }
  out += '"';
  return out;
}

// ---- formulas as plain text ---------------------------------------------------------------------

std::string derivative_text(const trace::document& doc, quantity_index of, quantity_index wrt) {
  return fmt::format("∂{}/∂{}", trace::display_name(doc, of), trace::display_name(doc, wrt));
}

// Children come before parents in an expression, so one front-to-back pass renders it (no
// recursion, whatever the nesting depth).
std::string expression_text(const trace::document& doc, const trace::expression& e) {
  struct rendered {
    std::string text;
    int precedence = 5;
  };
  std::vector<rendered> parts(e.nodes.size());
  for (std::size_t i = 0; i < e.nodes.size(); ++i) {
    const trace::expr_node& node = e.nodes[i];
    rendered& part = parts[i];
    switch (node.kind) {
      case trace::expr_kind::quantity:
        part.text = trace::display_name(doc, node.quantity);
        break;
      case trace::expr_kind::derivative:
        part.text = derivative_text(doc, node.of, node.quantity);
        break;
      case trace::expr_kind::symbol:
        part.text = node.text;
        break;
      case trace::expr_kind::literal:
        part.text = node.text;
        if (!part.text.empty() && part.text.front() == '-')
          part.precedence = 3;  // like unary minus
        break;
      case trace::expr_kind::apply: {
        part.precedence = node.precedence;
        const bool delimited = node.notation == trace::layout::function;
        const bool right_sensitive = node.op == "sub" || node.op == "div" || node.op == "pow";
        // An operand is bracketed when it binds more loosely than this node, or equally on the
        // right of a non-commutative operator (and on either side of ^).
        const auto operand = [&](std::uint32_t index, bool right) -> std::string {
          if (index >= i) return "?";  // malformed: a child after its parent
          const rendered& child = parts[index];
          const bool bracket = !delimited && (child.precedence < node.precedence ||
                                              (child.precedence == node.precedence &&
                                               right_sensitive && (right || node.op == "pow")));
          return bracket ? "(" + child.text + ")" : child.text;
        };
        const std::string_view pattern = node.text;
        for (std::size_t k = 0; k < pattern.size(); ++k) {
          if (pattern[k] != '#' || k + 1 == pattern.size()) {
            part.text += pattern[k];
            continue;
          }
          const char next = pattern[k + 1];
          if (next == '*') {
            for (std::size_t a = 0; a < node.args.size(); ++a) {
              if (a > 0) part.text += ", ";
              part.text += operand(node.args[a], false);
            }
            ++k;
          } else if (next == 'k') {
            part.text += node.selected && *node.selected < node.args.size()
                             ? operand(node.args[*node.selected], *node.selected > 0)
                             : "?";
            ++k;
          } else if (next >= '0' && next <= '9') {
            std::size_t end = k + 1;
            std::size_t number = 0;
            while (end < pattern.size() && pattern[end] >= '0' && pattern[end] <= '9') {
              number = number * 10 + static_cast<std::size_t>(pattern[end] - '0');
              ++end;
            }
            if (number == 0) {
              part.text += node.self ? operand(*node.self, k > 0) : "?";
            } else {
              part.text +=
                  number <= node.args.size() ? operand(node.args[number - 1], number > 1) : "?";
            }
            k = end - 1;
          } else {
            part.text += '#';
          }
        }
        break;
      }
    }
  }
  return parts.empty() ? std::string() : parts.back().text;
}

// ---- styling ------------------------------------------------------------------------------------

struct kind_style {
  trace::quantity_kind kind;
  std::string_view attributes;  // DOT attributes of the node
  std::string_view fill;        // for the legend
};

constexpr std::array<kind_style, 6> kind_styles = {{
    {trace::quantity_kind::input, R"(shape=box, style="filled", fillcolor="#dbeafe")", "#dbeafe"},
    {trace::quantity_kind::target, R"(shape=box, style="filled,dashed", fillcolor="#fef3c7")",
     "#fef3c7"},
    {trace::quantity_kind::parameter,
     R"(shape=box, style="rounded,filled,bold", fillcolor="#dcfce7")", "#dcfce7"},
    {trace::quantity_kind::constant, R"(shape=box, style="filled,dotted", fillcolor="#f3f4f6")",
     "#f3f4f6"},
    {trace::quantity_kind::computed, R"(shape=oval, style="filled", fillcolor="#ffffff")",
     "#ffffff"},
    {trace::quantity_kind::loss, R"(shape=box, peripheries=2, style="filled", fillcolor="#fee2e2")",
     "#fee2e2"},
}};

const kind_style& style_of(trace::quantity_kind kind) {
  for (const kind_style& style : kind_styles) {
    if (style.kind == kind) return style;
  }
  return kind_styles[4];
}

// Colours for highlighted paths, one per highlighted quantity, distinct from the node fills.
constexpr std::array<std::string_view, 6> highlight_colours = {"#d62728", "#1f57c4", "#9467bd",
                                                               "#e07b00", "#17803d", "#8c564b"};

// ---- the graph ----------------------------------------------------------------------------------

struct graph_edge {
  quantity_index from;
  quantity_index to;
  const trace::number* partial;  // null when the iteration has none
};

class dot_writer {
 public:
  dot_writer(const trace::document& doc, const dot_options& options)
      : doc_(doc), options_(options) {
    select_iteration();
    collect_nodes_and_edges();
    collect_highlights();
  }

  std::string write() {
    out_ += "digraph " + quoted(options_.graph_name) + " {\n";
    out_ +=
        "  graph [rankdir=LR, nodesep=0.25, ranksep=0.8, fontname=\"Helvetica\", "
        "fontsize=11, labelloc=b, labeljust=l];\n";
    out_ += "  node [fontname=\"Helvetica\", fontsize=11, margin=\"0.08,0.04\"];\n";
    out_ += "  edge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.7, color=\"#555555\"];\n";
    write_nodes();
    write_ranks();
    write_edges();
    write_caption();
    out_ += "}\n";
    return std::move(out_);
  }

 private:
  const trace::document& doc_;
  const dot_options& options_;
  const trace::iteration* iteration_ = nullptr;
  const trace::snapshot* values_ = nullptr;
  std::vector<bool> drawn_;  // per quantity
  std::vector<graph_edge> edges_;
  std::vector<std::vector<quantity_index>> consumers_;  // per quantity, along edges_
  std::vector<std::vector<quantity_index>> operands_;   // per quantity, against edges_
  std::vector<quantity_index> highlighted_;             // parallel to options_.highlight
  std::vector<std::vector<bool>> on_path_;              // [highlight][edge]
  std::string out_;

  void select_iteration() {
    const std::size_t n = doc_.quantities.size();
    if (doc_.loss >= n && n > 0) {
      throw std::invalid_argument(fmt::format(
          "trace document: loss index {} is not a quantity (there are {})", doc_.loss, n));
    }
    if (options_.iteration) {
      for (const trace::iteration& it : doc_.iterations) {
        if (it.index == *options_.iteration) iteration_ = &it;
      }
      if (iteration_ == nullptr) {
        std::string traced;
        for (const trace::iteration& it : doc_.iterations) {
          traced += (traced.empty() ? "" : ", ") + std::to_string(it.index);
        }
        throw std::invalid_argument(
            fmt::format("iteration {} was not traced (traced iterations: {})", *options_.iteration,
                        traced.empty() ? "none" : traced));
      }
    } else if (!doc_.iterations.empty()) {
      iteration_ = &doc_.iterations.front();
    }
    values_ = iteration_ != nullptr ? &iteration_->forward : &doc_.final_state;

    const auto check = [n](std::size_t size, std::size_t expected, std::string_view what) {
      if (size != 0 && size != expected) {
        throw std::invalid_argument(
            fmt::format("trace document: {} has {} entries, expected {}", what, size, expected));
      }
    };
    check(values_->values.size(), n, "the snapshot's values");
    if (iteration_ != nullptr) {
      check(iteration_->gradients.size(), n, "the iteration's gradients");
      check(iteration_->edge_partials.size(), doc_.edges.size(), "the iteration's edge partials");
      check(iteration_->engine_edge_partials.size(), doc_.engine_edges.size(),
            "the iteration's engine edge partials");
    }
  }

  void collect_nodes_and_edges() {
    const std::size_t n = doc_.quantities.size();
    drawn_.assign(n, false);
    for (std::size_t q = 0; q < n; ++q) {
      drawn_[q] = options_.show_intermediates || doc_.quantities[q].shown();
    }
    const std::vector<trace::edge>& source =
        options_.show_intermediates ? doc_.engine_edges : doc_.edges;
    const std::vector<trace::number>* partials = nullptr;
    if (iteration_ != nullptr) {
      partials = options_.show_intermediates ? &iteration_->engine_edge_partials
                                             : &iteration_->edge_partials;
    }
    for (std::size_t k = 0; k < source.size(); ++k) {
      const trace::edge& e = source[k];
      if (e.from >= n || e.to >= n) {
        throw std::invalid_argument(fmt::format(
            "trace document: edge {} -> {} refers to a missing quantity", e.from, e.to));
      }
      if (!drawn_[e.from] || !drawn_[e.to]) continue;
      const trace::number* partial =
          partials != nullptr && !partials->empty() ? &(*partials)[k] : nullptr;
      edges_.push_back({e.from, e.to, partial});
    }
    consumers_.assign(n, {});
    operands_.assign(n, {});
    for (const graph_edge& e : edges_) {
      consumers_[e.from].push_back(e.to);
      operands_[e.to].push_back(e.from);
    }
  }

  void collect_highlights() {
    const std::size_t n = doc_.quantities.size();
    for (const std::string& name : options_.highlight) {
      std::optional<quantity_index> found;
      for (std::size_t q = 0; q < n && !found; ++q) {
        if (doc_.quantities[q].name == name) found = static_cast<quantity_index>(q);
      }
      if (!found) {
        throw std::invalid_argument(
            fmt::format("cannot highlight '{}': no quantity has that name", name));
      }
      if (!drawn_[*found]) {
        throw std::invalid_argument(fmt::format(
            "cannot highlight '{}': it is folded into another quantity (show intermediates to "
            "draw it)",
            name));
      }
      highlighted_.push_back(*found);

      // Edges on a path from the quantity to the loss: both ends reachable from the quantity and
      // both able to reach the loss. Two sweeps over the edge list in breadth-first order.
      std::vector<bool> from_start(n, false);
      std::vector<bool> to_loss(n, false);
      sweep(*found, from_start, /*forward=*/true);
      if (doc_.loss < n) sweep(doc_.loss, to_loss, /*forward=*/false);
      std::vector<bool> marks(edges_.size(), false);
      for (std::size_t k = 0; k < edges_.size(); ++k) {
        const graph_edge& e = edges_[k];
        marks[k] = from_start[e.from] && from_start[e.to] && to_loss[e.from] && to_loss[e.to];
      }
      on_path_.push_back(std::move(marks));
    }
  }

  void sweep(quantity_index start, std::vector<bool>& reached, bool forward) const {
    const std::vector<std::vector<quantity_index>>& next = forward ? consumers_ : operands_;
    std::vector<quantity_index> queue{start};
    reached[start] = true;
    for (std::size_t head = 0; head < queue.size(); ++head) {
      for (const quantity_index to : next[queue[head]]) {
        if (!reached[to]) {
          reached[to] = true;
          queue.push_back(to);
        }
      }
    }
  }

  std::string_view number_text(const trace::number& number) const {
    if (options_.exact || number.shown.empty()) return number.exact;
    return number.shown;
  }

  static std::string node_id(quantity_index q) { return "q" + std::to_string(q); }

  std::string node_label(quantity_index q) const {
    const trace::quantity& quantity = doc_.quantities[q];
    const std::string name = trace::display_name(doc_, q);
    std::string label = R"(<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">)";
    label += "<TR><TD><B>" + html(name) + "</B> <FONT POINT-SIZE=\"9\" COLOR=\"#555555\">";
    if (quantity.kind == trace::quantity_kind::computed) {
      append_html(label, quantity.op);
    } else {
      append_html(label, trace::to_string(quantity.kind));
    }
    label += "</FONT></TD></TR>";
    if (options_.formulas && !quantity.formula.empty()) {
      label += "<TR><TD><FONT POINT-SIZE=\"9\">" + html(name) + " = " +
               html(expression_text(doc_, quantity.formula)) + "</FONT></TD></TR>";
    }
    if (q < values_->values.size() && !values_->values[q].empty()) {
      label += "<TR><TD>value = " + html(number_text(values_->values[q])) + "</TD></TR>";
    }
    if (iteration_ != nullptr && q < iteration_->gradients.size() &&
        !iteration_->gradients[q].empty()) {
      label += "<TR><TD>" + html(derivative_text(doc_, doc_.loss, q)) + " = " +
               html(number_text(iteration_->gradients[q])) + "</TD></TR>";
    }
    label += "</TABLE>";
    return label;
  }

  void write_nodes() {
    for (std::size_t q = 0; q < doc_.quantities.size(); ++q) {
      if (!drawn_[q]) continue;
      const auto index = static_cast<quantity_index>(q);
      const trace::quantity& quantity = doc_.quantities[q];
      out_ += "  " + node_id(index) + " [" + std::string(style_of(quantity.kind).attributes);
      for (std::size_t h = 0; h < highlighted_.size(); ++h) {
        if (highlighted_[h] == index) {
          out_ += fmt::format(", color=\"{}\", penwidth=3",
                              highlight_colours[h % highlight_colours.size()]);
          break;
        }
      }
      out_ += ", tooltip=" + quoted(trace::display_name(doc_, index));
      out_ += ", label=<" + node_label(index) + ">];\n";
    }
  }

  // Folded graphs are laid out by the trace's layer hint, one column per rank, so Mazur's 2-2-2
  // net reads as inputs | hidden | outputs | loss. Engine-level graphs leave ranking to dot:
  // intermediates share rank numbers with the named quantity they feed.
  void write_ranks() {
    if (options_.show_intermediates) return;
    std::map<std::uint32_t, std::vector<quantity_index>> by_rank;
    for (std::size_t q = 0; q < doc_.quantities.size(); ++q) {
      if (drawn_[q]) by_rank[doc_.quantities[q].rank].push_back(static_cast<quantity_index>(q));
    }
    for (const auto& [rank, members] : by_rank) {
      out_ += fmt::format("  subgraph rank_{} {{ rank=same;", rank);
      for (const quantity_index q : members)
        out_ += " " + node_id(q) + ";";
      out_ += " }\n";
    }
  }

  void write_edges() {
    for (std::size_t k = 0; k < edges_.size(); ++k) {
      const graph_edge& e = edges_[k];
      std::string colours;
      for (std::size_t h = 0; h < on_path_.size(); ++h) {
        if (!on_path_[h][k]) continue;
        if (!colours.empty()) colours += ':';
        colours += highlight_colours[h % highlight_colours.size()];
      }
      const bool highlighted = !colours.empty();
      std::string attributes;
      const std::string_view partial = e.partial != nullptr ? number_text(*e.partial) : "";
      if (highlighted) {
        // Several highlights on one edge: Graphviz draws a "c1:c2" list as parallel lines.
        const std::string_view first = std::string_view(colours).substr(0, colours.find(':'));
        attributes = fmt::format("color=\"{}\", penwidth=2.5, fontcolor=\"{}\"", colours, first);
        std::string label = html(derivative_text(doc_, e.to, e.from));
        if (!partial.empty()) label += " = " + html(partial);
        attributes += ", label=<<B>" + label + "</B>>";
      } else if (options_.edge_partials && !partial.empty()) {
        attributes = "label=<" + html(partial) + ">";
      }
      out_ += "  " + node_id(e.from) + " -> " + node_id(e.to);
      if (!attributes.empty()) out_ += " [" + attributes + "]";
      out_ += ";\n";
    }
  }

  std::string step_line(const trace::gradient_step& step) const {
    const auto name = [this](const trace::derivative& d) {
      std::string text = derivative_text(doc_, d.of, d.wrt);
      if (d.via && d.via_needed) text += " (via " + trace::display_name(doc_, *d.via) + ")";
      return text;
    };
    const std::string_view join = step.combine == trace::gradient_step::kind::sum ? " + " : " · ";
    std::string symbols;
    std::string numbers;
    for (const trace::factor& f : step.factors) {
      if (!symbols.empty()) {
        symbols += join;
        numbers += join;
      }
      symbols += name(f.d);
      const std::string_view value = number_text(f.value);
      numbers += value.empty() ? "?" : std::string(value);
    }
    std::string line = name(step.d) + " = " + symbols;
    if (step.factors.size() > 1) line += " = " + numbers;
    if (!step.value.empty()) line += " = " + std::string(number_text(step.value));
    return line;
  }

  // The chain-rule equations behind a highlighted quantity's gradient, in derivation order: its
  // own step and, transitively, the helper steps its factors were defined by.
  std::vector<std::uint32_t> derivation_of(quantity_index q) const {
    const std::vector<trace::gradient_step>& steps = iteration_->backward;
    std::optional<std::uint32_t> own;
    for (std::size_t s = 0; s < steps.size() && !own; ++s) {
      if (steps[s].parameter == q) own = static_cast<std::uint32_t>(s);
    }
    for (std::size_t s = 0; s < steps.size() && !own; ++s) {
      const trace::derivative& d = steps[s].d;
      if (d.wrt == q && d.of == doc_.loss && !d.via) own = static_cast<std::uint32_t>(s);
    }
    if (!own) return {};
    std::vector<bool> needed(steps.size(), false);
    std::vector<std::uint32_t> pending{*own};
    needed[*own] = true;
    while (!pending.empty()) {
      const std::uint32_t s = pending.back();
      pending.pop_back();
      for (const trace::factor& f : steps[s].factors) {
        if (f.defined_by && *f.defined_by < steps.size() && !needed[*f.defined_by]) {
          needed[*f.defined_by] = true;
          pending.push_back(*f.defined_by);
        }
      }
    }
    std::vector<std::uint32_t> order;
    for (std::size_t s = 0; s < steps.size(); ++s) {
      if (needed[s]) order.push_back(static_cast<std::uint32_t>(s));
    }
    return order;
  }

  void write_caption() {
    std::vector<std::string> rows;
    if (!doc_.title.empty()) rows.push_back("<B>" + html(doc_.title) + "</B>");
    if (iteration_ != nullptr) {
      rows.push_back(html(fmt::format(
          "Iteration {}, before its update: values and gradients ∂{}/∂x; edges: local partials "
          "∂head/∂tail",
          iteration_->index, trace::display_name(doc_, doc_.loss))));
    } else if (!doc_.quantities.empty()) {
      rows.push_back("Values after the last update (no traced iteration)");
    }
    for (std::size_t h = 0; h < highlighted_.size() && iteration_ != nullptr; ++h) {
      const std::string_view colour = highlight_colours[h % highlight_colours.size()];
      for (const std::uint32_t s : derivation_of(highlighted_[h])) {
        rows.push_back(fmt::format("<FONT COLOR=\"{}\">{}</FONT>", colour,
                                   html(step_line(iteration_->backward[s]))));
      }
    }
    std::string legend;
    if (options_.legend) {
      for (const kind_style& style : kind_styles) {
        const bool present = std::any_of(doc_.quantities.begin(), doc_.quantities.end(),
                                         [&](const trace::quantity& quantity) {
                                           return quantity.kind == style.kind &&
                                                  (options_.show_intermediates || quantity.shown());
                                         });
        if (!present) continue;
        legend += fmt::format(R"(<TD BORDER="1" BGCOLOR="{}">{}</TD>)", style.fill,
                              html(trace::to_string(style.kind)));
      }
    }
    if (rows.empty() && legend.empty()) return;
    std::string label = R"(<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">)";
    for (const std::string& row : rows)
      label += "<TR><TD ALIGN=\"LEFT\">" + row + "</TD></TR>";
    if (!legend.empty()) {
      label += R"(<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3"><TR>)";
      label += legend + "</TR></TABLE></TD></TR>";
    }
    label += "</TABLE>";
    out_ += "  label=<" + label + ">;\n";
  }
};

}  // namespace

std::string to_dot(const trace::document& doc, const dot_options& options) {
  return dot_writer(doc, options).write();
}

}  // namespace chainrule::exporters
