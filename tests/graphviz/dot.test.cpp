// SPDX-License-Identifier: MIT
// to_dot on a hand-written document: structure (checked by parsing the DOT with cgraph), labels,
// styles, options, escaping of hostile names, determinism.
#include <catch2/catch.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <tuple>

#include "chainrule/exporters/dot.hpp"
#include "chainrule/exporters/graphviz.hpp"
#include "tiny_document.hpp"

namespace ex = chainrule::exporters;
namespace tiny = chainrule::test::tiny;
using chainrule::test::tiny_document;

namespace {

// A tooltip as to_dot writes it: '&' as an entity, '\\' as U+29F5 (see dot.cpp).
std::string tooltip_of(const std::string& name) {
  std::string out;
  for (const char c : name) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '\\') {
      out += "\u29F5";
    } else {
      out += c;
    }
  }
  return out;
}

// The node whose tooltip (the quantity's name) is `name`.
const ex::dot_object& node_named(const ex::dot_graph& g, const std::string& name) {
  for (const ex::dot_object& node : g.nodes) {
    const auto tooltip = node.attributes.find("tooltip");
    if (tooltip != node.attributes.end() && tooltip->second == tooltip_of(name)) {
      return node;
    }
  }
  throw std::runtime_error("no node named " + name);
}

// An attribute's value, empty when the graph never declares it.
std::string attribute(const ex::dot_object& object, const std::string& key) {
  const auto found = object.attributes.find(key);
  return found == object.attributes.end() ? std::string() : found->second;
}

const ex::dot_object& edge_named(const ex::dot_graph& g, const std::string& name) {
  for (const ex::dot_object& edge : g.edges) {
    if (edge.name == name) return edge;
  }
  throw std::runtime_error("no edge " + name);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string invalid_argument_message(const chainrule::trace::document& doc,
                                     const ex::dot_options& options) {
  try {
    (void)ex::to_dot(doc, options);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "no exception";
}

}  // namespace

TEST_CASE("DOT of a folded graph", "[dot]") {
  const auto doc = tiny_document();
  const std::string dot = ex::to_dot(doc);
  const ex::dot_graph g = ex::parse_dot(dot);

  CHECK(g.name == "chainrule");
  CHECK(g.directed);
  CHECK(g.attributes.at("rankdir") == "LR");
  // x, w, b, net, y, t, E: the unnamed product, difference, square and the literal 0.5 are folded.
  CHECK(g.nodes.size() == 7);
  CHECK(g.edges.size() == 6);

  SECTION("nodes show name, formula, value and gradient") {
    const ex::dot_object& w = node_named(g, "w");
    CHECK(w.html_attributes == std::vector<std::string>{"label"});
    const std::string& label = w.attributes.at("label");
    CHECK(contains(label, "<B>w</B>"));
    CHECK(contains(label, "parameter"));
    CHECK(contains(label, "value = 0.8<"));
    CHECK(contains(label, "∂E/∂w = -0.054065432<"));
    const std::string& net = node_named(g, "net").attributes.at("label");
    CHECK(contains(net, "net = w*x + b"));
    CHECK(contains(net, "value = 1.3<"));
    const std::string& e = node_named(g, "E").attributes.at("label");
    CHECK(contains(e, "E = 0.5*(t - y)*(t - y)"));
    CHECK(contains(e, "∂E/∂E = 1<"));
  }
  SECTION("edges carry the local partial") {
    CHECK(edge_named(g, "q0 -> q4").attributes.at("label") == "0.8");  // d net / d x = w
    CHECK(edge_named(g, "q1 -> q4").attributes.at("label") == "1.5");  // d net / d w = x
    CHECK(edge_named(g, "q4 -> q5").attributes.at("label") == "0.168298362");
    CHECK(edge_named(g, "q5 -> q10").attributes.at("label") == "-0.214165017");
  }
  SECTION("every kind looks different") {
    std::set<std::tuple<std::string, std::string, std::string>> looks;
    for (const char* name : {"x", "t", "w", "b", "net", "E"}) {
      const auto& a = node_named(g, name).attributes;
      looks.emplace(a.at("shape"), a.at("style"), a.at("fillcolor"));
    }
    CHECK(looks.size() == 6);
    CHECK(node_named(g, "net").attributes.at("fillcolor") ==
          node_named(g, "y").attributes.at("fillcolor"));
  }
  SECTION("layers share a column") {
    std::map<std::string, std::vector<std::string>> ranks;
    for (const ex::dot_object& sub : g.subgraphs) {
      CHECK(sub.attributes.at("rank") == "same");
      ranks[sub.name] = sub.nodes;
    }
    CHECK(ranks.at("rank_0") == std::vector<std::string>{"q0", "q1", "q2"});
    CHECK(ranks.at("rank_1") == std::vector<std::string>{"q4"});
    CHECK(ranks.at("rank_2") == std::vector<std::string>{"q5", "q6"});
    CHECK(ranks.at("rank_3") == std::vector<std::string>{"q10"});
  }
  SECTION("a caption with the title, the iteration and a legend") {
    const std::string& label = g.attributes.at("label");
    CHECK(contains(label, "One sigmoid neuron"));
    CHECK(contains(label, "Iteration 1, before its update"));
    for (const char* kind : {"input", "target", "parameter", "constant", "computed", "loss"}) {
      CHECK(contains(label, std::string(">") + kind + "<"));
    }
  }
  SECTION("deterministic") {
    CHECK(ex::to_dot(tiny_document()) == dot);
    CHECK(ex::render_dot(dot, ex::image_format::svg) == ex::render_dot(dot, ex::image_format::svg));
  }
}

TEST_CASE("DOT options", "[dot]") {
  const auto doc = tiny_document();

  SECTION("intermediates shown") {
    ex::dot_options options;
    options.show_intermediates = true;
    const ex::dot_graph g = ex::parse_dot(ex::to_dot(doc, options));
    CHECK(g.nodes.size() == doc.quantities.size());
    CHECK(g.edges.size() == doc.engine_edges.size());
    CHECK(g.subgraphs.empty());
    CHECK(contains(node_named(g, "#3").attributes.at("label"), "mul"));
    CHECK(edge_named(g, "q6 -> q7").attributes.at("label") == "1");
    CHECK(edge_named(g, "q5 -> q7").attributes.at("label") == "-1");
  }
  SECTION("exact numbers") {
    ex::dot_options options;
    options.exact = true;
    const ex::dot_graph g = ex::parse_dot(ex::to_dot(doc, options));
    CHECK(contains(node_named(g, "y").attributes.at("label"),
                   "value = 0.785834983042558612602088472260<"));
  }
  SECTION("bare: no formulas, partials or legend") {
    ex::dot_options options;
    options.formulas = false;
    options.edge_partials = false;
    options.legend = false;
    const ex::dot_graph g = ex::parse_dot(ex::to_dot(doc, options));
    CHECK_FALSE(contains(node_named(g, "net").attributes.at("label"), "w*x"));
    for (const ex::dot_object& edge : g.edges)
      CHECK(attribute(edge, "label").empty());
    CHECK_FALSE(contains(g.attributes.at("label"), ">input<"));
  }
  SECTION("graph name is quoted") {
    ex::dot_options options;
    options.graph_name = "my \"net\" {1}";
    CHECK(ex::parse_dot(ex::to_dot(doc, options)).name == "my \"net\" {1}");
  }
  SECTION("iteration that was not traced") {
    ex::dot_options options;
    options.iteration = 7;
    CHECK(invalid_argument_message(doc, options) ==
          "iteration 7 was not traced (traced iterations: 1)");
    options.iteration = 1;
    CHECK_NOTHROW(ex::to_dot(doc, options));
  }
  SECTION("no traced iteration: final values, no gradients") {
    auto untraced = doc;
    untraced.iterations.clear();
    const ex::dot_graph g = ex::parse_dot(ex::to_dot(untraced));
    const std::string& w = node_named(g, "w").attributes.at("label");
    CHECK(contains(w, "value = 0.827032716<"));
    CHECK_FALSE(contains(w, "∂E/∂w"));
    CHECK(attribute(edge_named(g, "q0 -> q4"), "label").empty());
  }
  SECTION("empty document") {
    const ex::dot_graph g = ex::parse_dot(ex::to_dot(chainrule::trace::document{}));
    CHECK(g.nodes.empty());
    CHECK(g.edges.empty());
  }
  SECTION("inconsistent document") {
    auto broken = doc;
    broken.iterations[0].gradients.pop_back();
    CHECK(contains(invalid_argument_message(broken, {}), "gradients has 10 entries, expected 11"));
  }
}

TEST_CASE("DOT highlight of chain-rule paths", "[dot]") {
  const auto doc = tiny_document();
  ex::dot_options options;
  options.highlight = {"w"};
  const ex::dot_graph g = ex::parse_dot(ex::to_dot(doc, options));

  // w -> net -> y -> E is the only path; the other edges stay grey.
  for (const char* on_path : {"q1 -> q4", "q4 -> q5", "q5 -> q10"}) {
    INFO(on_path);
    CHECK(edge_named(g, on_path).attributes.at("color") == "#d62728");
  }
  for (const char* off_path : {"q0 -> q4", "q2 -> q4", "q6 -> q10"}) {
    INFO(off_path);
    CHECK(edge_named(g, off_path).attributes.at("color") == "#555555");
  }
  CHECK(edge_named(g, "q1 -> q4").attributes.at("label") == "<B>∂net/∂w = 1.5</B>");
  CHECK(edge_named(g, "q4 -> q5").attributes.at("label") == "<B>∂y/∂net = 0.168298362</B>");
  CHECK(node_named(g, "w").attributes.at("color") == "#d62728");
  // The caption repeats the derivation's equation with its numbers.
  CHECK(contains(g.attributes.at("label"),
                 "∂E/∂w = ∂E/∂y · ∂y/∂net · ∂net/∂w = -0.214165017 · 0.168298362 · 1.5 = "
                 "-0.054065432"));

  SECTION("two highlights share edges with both colours") {
    options.highlight = {"w", "x"};
    const ex::dot_graph both = ex::parse_dot(ex::to_dot(doc, options));
    CHECK(edge_named(both, "q4 -> q5").attributes.at("color") == "#d62728:#1f57c4");
    CHECK(edge_named(both, "q0 -> q4").attributes.at("color") == "#1f57c4");
  }
  SECTION("unknown and folded names") {
    options.highlight = {"w9"};
    CHECK(invalid_argument_message(doc, options) ==
          "cannot highlight 'w9': no quantity has that name");
    auto named = doc;
    named.quantities[tiny::m].name = "m";
    options.highlight = {"m"};
    CHECK(contains(invalid_argument_message(named, options), "'m': it is folded into"));
    options.show_intermediates = true;
    CHECK_NOTHROW(ex::to_dot(named, options));
  }
}

TEST_CASE("hostile names cannot inject DOT or HTML", "[dot]") {
  auto doc = tiny_document();
  const std::string breakout = "x</B></TD></TR></TABLE>>]; evil [label=\"pwned\"]; q0 -> q1 [x=<";
  doc.quantities[tiny::x].name = breakout;
  doc.quantities[tiny::w].name = "a & b \"c\" 'd' <e>";
  doc.quantities[tiny::t].name = "back\\slash\\N";
  doc.quantities[tiny::b].name = "bad\xff utf8\x01";
  doc.quantities[tiny::y].name = "σ₁";
  doc.title = "<script>alert(1)</script>";

  ex::dot_options options;
  options.highlight = {doc.quantities[tiny::w].name};
  const std::string dot = ex::to_dot(doc, options);
  const ex::dot_graph g = ex::parse_dot(dot);
  CHECK(g.nodes.size() == 7);  // no "evil" node
  CHECK(g.edges.size() == 6);
  for (const ex::dot_object& node : g.nodes)
    CHECK(node.name != "evil");

  const std::string& x = node_named(g, breakout).attributes.at("label");
  CHECK(contains(
      x, "x&lt;/B&gt;&lt;/TD&gt;&lt;/TR&gt;&lt;/TABLE&gt;&gt;]; evil [label=&quot;pwned&quot;]"));
  const std::string& w = node_named(g, "a & b \"c\" 'd' <e>").attributes.at("label");
  CHECK(contains(w, "a &amp; b &quot;c&quot; &#39;d&#39; &lt;e&gt;"));
  CHECK(contains(node_named(g, "σ₁").attributes.at("label"), "<B>σ₁</B>"));
  CHECK(contains(dot, "bad\xEF\xBF\xBD utf8\xEF\xBF\xBD"));
  CHECK_FALSE(contains(dot, "\xff"));

  // Graphviz accepts all of it, and the SVG shows the names as text.
  const std::string svg = ex::render_dot(dot, ex::image_format::svg);
  CHECK_FALSE(contains(svg, "<script>"));
  CHECK(contains(svg, "&lt;script&gt;"));
  CHECK(contains(svg, "pwned"));  // as text inside the label, not as a node
  // Graphviz would expand \N to the node's id; the name is shown as written.
  CHECK(contains(svg, ">back\\slash\\N</text>"));
  CHECK_FALSE(contains(svg, "slashq6"));
  CHECK(contains(svg, "xlink:title=\"back\u29F5slash\u29F5N\""));
  CHECK(contains(svg, "xlink:title=\"a &amp; b &quot;c&quot; &#39;d&#39; &lt;e&gt;\""));
  CHECK(ex::render_dot(dot, ex::image_format::svg) == svg);
}
