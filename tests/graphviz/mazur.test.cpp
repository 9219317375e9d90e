// SPDX-License-Identifier: MIT
// Matt Mazur's 2-2-2 example through the recorder, the DOT and JSON exporters and Graphviz. The
// 9-decimal figures are the ones printed in the tutorial; the long ones come from mazur.ref
// (mpmath, independent of the engine).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "chainrule/engine/engine.hpp"
#include "chainrule/exporters/dot.hpp"
#include "chainrule/exporters/graphviz.hpp"
#include "chainrule/exporters/json.hpp"
#include "chainrule/trace/train.hpp"
#include "png_decode.hpp"
#include "support/mazur.hpp"
#include "support/reference.hpp"

namespace ex = chainrule::exporters;
namespace tr = chainrule::trace;
using chainrule::mp_real;

namespace {

// One simultaneous gradient-descent step at learning rate 0.5, 50 digits, as in the tutorial;
// `steps` and `trace_all` give later iterations to draw.
tr::document mazur_document(std::uint64_t steps = 1, bool trace_all = false) {
  chainrule::graph<mp_real> g(50);
  const auto n = chainrule::testing::build_mazur(g);
  tr::run_options options;
  options.record.title = "A step by step backpropagation example";
  options.record.targets = {n.t1.id(), n.t2.id()};
  options.optimizer = {"sgd", {{"lr", "0.5"}}};
  options.steps = steps;
  options.trace.all = trace_all;
  return tr::run(g, n.E_total.id(), options);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const ex::dot_object& node_named(const ex::dot_graph& g, const std::string& name) {
  for (const ex::dot_object& node : g.nodes) {
    if (node.attributes.at("tooltip") == name) return node;
  }
  FAIL("no node named " << name);
  return g.nodes.front();
}

// "q12" -> the quantity's name, through the tooltips.
std::map<std::string, std::string> names_by_id(const ex::dot_graph& g) {
  std::map<std::string, std::string> names;
  for (const ex::dot_object& node : g.nodes)
    names[node.name] = node.attributes.at("tooltip");
  return names;
}

// Edges as "from -> to" with quantity names.
std::map<std::string, const ex::dot_object*> edges_by_names(const ex::dot_graph& g) {
  const auto names = names_by_id(g);
  std::map<std::string, const ex::dot_object*> edges;
  for (const ex::dot_object& edge : g.edges) {
    const auto arrow = edge.name.find(" -> ");
    edges[names.at(edge.name.substr(0, arrow)) + " -> " + names.at(edge.name.substr(arrow + 4))] =
        &edge;
  }
  return edges;
}

// Centre of each node in an SVG written by Graphviz: the first ellipse or polygon after the
// node's <title>.
std::map<std::string, std::pair<double, double>> svg_centres(const std::string& svg) {
  std::map<std::string, std::pair<double, double>> centres;
  for (std::size_t at = svg.find("class=\"node\""); at != std::string::npos;
       at = svg.find("class=\"node\"", at + 1)) {
    const std::size_t title = svg.find("<title>", at) + 7;
    const std::string id = svg.substr(title, svg.find("</title>", title) - title);
    const std::size_t ellipse = svg.find("<ellipse", title);
    const std::size_t polygon = svg.find("<polygon", title);
    if (ellipse < polygon) {
      const std::size_t cx = svg.find("cx=\"", ellipse) + 4;
      const std::size_t cy = svg.find("cy=\"", ellipse) + 4;
      centres[id] = {std::strtod(svg.c_str() + cx, nullptr),
                     std::strtod(svg.c_str() + cy, nullptr)};
    } else {
      const std::size_t begin = svg.find("points=\"", polygon) + 8;
      const std::string points = svg.substr(begin, svg.find('"', begin) - begin);
      double x = 0, y = 0, count = 0;
      for (std::size_t p = 0; p < points.size();) {
        char* end = nullptr;
        x += std::strtod(points.c_str() + p, &end);
        y += std::strtod(end + 1, &end);
        count += 1;
        p = static_cast<std::size_t>(end - points.c_str()) + 1;
      }
      centres[id] = {x / count, y / count};
    }
  }
  return centres;
}

}  // namespace

TEST_CASE("Mazur's network as DOT", "[dot][mazur]") {
  const tr::document doc = mazur_document();
  const std::string dot = ex::to_dot(doc);
  const ex::dot_graph g = ex::parse_dot(dot);

  // 4 inputs/targets, 8 weights, 2 biases, and 11 computed quantities from net_h1 to E_total; the
  // 0.5 and the exponent 2 of the squared errors are folded into E_o1 and E_o2.
  CHECK(g.nodes.size() == 25);
  // net_h1, net_h2, net_o1, net_o2 have 5 operands each, out_* one each, E_o1/E_o2 two (target
  // and output), E_total two.
  CHECK(g.edges.size() == 4 * 5 + 4 * 1 + 2 * 2 + 2);

  SECTION("values and gradients as published") {
    const std::string& w5 = node_named(g, "w5").attributes.at("label");
    CHECK(contains(w5, "value = 0.4<"));
    CHECK(contains(w5, "∂E_total/∂w5 = 0.082167041<"));
    CHECK(contains(node_named(g, "w1").attributes.at("label"), "∂E_total/∂w1 = 0.000438568<"));
    CHECK(contains(node_named(g, "out_h1").attributes.at("label"), "value = 0.593269992<"));
    CHECK(contains(node_named(g, "out_o1").attributes.at("label"), "value = 0.75136507<"));
    const std::string& e = node_named(g, "E_total").attributes.at("label");
    CHECK(contains(e, "value = 0.298371109<"));
    CHECK(contains(e, "E_total = E_o1 + E_o2"));
    CHECK(contains(node_named(g, "net_h1").attributes.at("label"), "net_h1 = w1*i1 + w2*i2 + b1"));
  }
  SECTION("kinds") {
    const auto shape_of = [&](const char* name) {
      return node_named(g, name).attributes.at("fillcolor");
    };
    CHECK(shape_of("i1") == "#dbeafe");
    CHECK(shape_of("t1") == "#fef3c7");
    CHECK(shape_of("w1") == "#dcfce7");
    CHECK(shape_of("b1") == "#f3f4f6");
    CHECK(shape_of("net_h1") == "#ffffff");
    CHECK(shape_of("E_total") == "#fee2e2");
  }
  SECTION("edges carry the local partials") {
    const auto edges = edges_by_names(g);
    CHECK(edges.at("w5 -> net_o1")->attributes.at("label") == "0.593269992");  // out_h1
    CHECK(edges.at("w1 -> net_h1")->attributes.at("label") == "0.05");         // i1
    CHECK(edges.at("net_o1 -> out_o1")->attributes.at("label") == "0.186815602");
    // d E_o1 / d out_o1 = -(t1 - out_o1) = 0.741365070, trailing zero stripped.
    CHECK(edges.at("out_o1 -> E_o1")->attributes.at("label") == "0.74136507");
  }
  SECTION("laid out as a 2-2-2 net, left to right") {
    const auto names = names_by_id(g);
    std::map<std::string, std::set<std::string>> ranks;
    for (const ex::dot_object& sub : g.subgraphs) {
      for (const std::string& id : sub.nodes)
        ranks[sub.name].insert(names.at(id));
    }
    using names_set = std::set<std::string>;
    CHECK(ranks.at("rank_0") == names_set{"i1", "i2", "w1", "w2", "w3", "w4", "b1"});
    CHECK(ranks.at("rank_1") == names_set{"net_h1", "net_h2"});
    CHECK(ranks.at("rank_2") == names_set{"out_h1", "out_h2", "w5", "w6", "w7", "w8", "b2"});
    CHECK(ranks.at("rank_3") == names_set{"net_o1", "net_o2"});
    CHECK(ranks.at("rank_4") == names_set{"out_o1", "out_o2", "t1", "t2"});
    CHECK(ranks.at("rank_5") == names_set{"E_o1", "E_o2"});
    CHECK(ranks.at("rank_6") == names_set{"E_total"});

    // In the rendered picture every layer is one column, and the columns go left to right.
    const auto centres = svg_centres(ex::render_dot(dot, ex::image_format::svg));
    std::map<std::string, std::string> id_of;
    for (const auto& [id, name] : names)
      id_of[name] = id;
    const auto x = [&](const char* name) { return centres.at(id_of.at(name)).first; };
    const auto y = [&](const char* name) { return centres.at(id_of.at(name)).second; };
    CHECK(x("net_h1") == Approx(x("net_h2")));
    CHECK(x("out_h1") == Approx(x("out_h2")));
    CHECK(x("net_o1") == Approx(x("net_o2")));
    CHECK(x("out_o1") == Approx(x("out_o2")));
    CHECK(x("i1") < x("net_h1"));
    CHECK(x("net_h1") < x("out_h1"));
    CHECK(x("out_h1") < x("net_o1"));
    CHECK(x("net_o1") < x("out_o1"));
    CHECK(x("out_o1") < x("E_o1"));
    CHECK(x("E_o1") < x("E_total"));
    CHECK(y("net_h1") != Approx(y("net_h2")));
  }
}

TEST_CASE("Mazur: highlighting the chain-rule paths to w1", "[dot][mazur]") {
  const tr::document doc = mazur_document();
  ex::dot_options options;
  options.highlight = {"w1"};
  const ex::dot_graph g = ex::parse_dot(ex::to_dot(doc, options));
  const auto edges = edges_by_names(g);

  // w1 reaches E_total through out_h1, which feeds both outputs: ten edges.
  const std::set<std::string> paths = {"w1 -> net_h1",     "net_h1 -> out_h1", "out_h1 -> net_o1",
                                       "out_h1 -> net_o2", "net_o1 -> out_o1", "net_o2 -> out_o2",
                                       "out_o1 -> E_o1",   "out_o2 -> E_o2",   "E_o1 -> E_total",
                                       "E_o2 -> E_total"};
  std::size_t coloured = 0;
  for (const auto& [name, edge] : edges) {
    INFO(name);
    const bool highlighted = edge->attributes.at("color") == "#d62728";
    CHECK(highlighted == (paths.count(name) == 1));
    coloured += highlighted ? 1 : 0;
  }
  CHECK(coloured == paths.size());
  CHECK(edges.at("w1 -> net_h1")->attributes.at("label") == "<B>∂net_h1/∂w1 = 0.05</B>");
  CHECK(edges.at("net_h1 -> out_h1")->attributes.at("label") ==
        "<B>∂out_h1/∂net_h1 = 0.241300709</B>");

  // The caption repeats the recorder's derivation of dE_total/dw1, the one the LaTeX shows.
  const std::string& caption = g.attributes.at("label");
  const tr::iteration& it = doc.iterations.front();
  std::size_t w1_steps = 0;
  for (const tr::gradient_step& step : it.backward) {
    if (step.parameter && doc.quantities[*step.parameter].name == "w1") {
      ++w1_steps;
      CHECK(contains(caption, "∂E_total/∂w1 = "));
      CHECK(contains(caption, " = " + step.value.shown + "</FONT>"));
      for (const tr::factor& f : step.factors)
        CHECK(contains(caption, f.value.shown));
    }
  }
  CHECK(w1_steps == 1);
  CHECK(contains(caption, "0.000438568</FONT>"));  // the published gradient
  CHECK(contains(caption, "0.036350306"));         // dE_total/dout_h1, published
}

TEST_CASE("Mazur: a later iteration", "[dot][mazur]") {
  const tr::document doc = mazur_document(3, true);
  REQUIRE(doc.iterations.size() == 3);
  ex::dot_options options;
  options.iteration = 2;  // after one update: w5+ = 0.35891648 in the tutorial
  const ex::dot_graph g = ex::parse_dot(ex::to_dot(doc, options));
  CHECK(contains(node_named(g, "w5").attributes.at("label"), "value = 0.35891648<"));
  CHECK(contains(node_named(g, "w1").attributes.at("label"), "value = 0.149780716<"));
  CHECK(contains(g.attributes.at("label"), "Iteration 2, before its update"));
  // The default is still the first iteration.
  const ex::dot_graph first = ex::parse_dot(ex::to_dot(doc));
  CHECK(contains(node_named(first, "w5").attributes.at("label"), "value = 0.4<"));
}

TEST_CASE("Mazur: every engine node", "[dot][mazur]") {
  const tr::document doc = mazur_document();
  ex::dot_options options;
  options.show_intermediates = true;
  const ex::dot_graph g = ex::parse_dot(ex::to_dot(doc, options));
  CHECK(g.nodes.size() == doc.quantities.size());
  CHECK(g.edges.size() == doc.engine_edges.size());
  CHECK(g.nodes.size() > 25);
}

TEST_CASE("Mazur: pictures", "[graphviz][mazur]") {
  const tr::document doc = mazur_document();
  ex::dot_options options;
  options.highlight = {"w1", "w5"};
  const std::string dot = ex::to_dot(doc, options);
  const std::string svg = ex::render_dot(dot, ex::image_format::svg);
  CHECK(contains(svg, "∂E_total/∂w5 = 0.082167041"));
  const auto png = chainrule::test::decode_png(ex::render_dot(dot, ex::image_format::png));
  CHECK(png.width > 800);
  CHECK(png.width > png.height);
  std::set<std::uint32_t> colours;
  for (std::uint32_t y = 0; y < png.height; y += 3) {
    for (std::uint32_t x = 0; x < png.width; x += 3)
      colours.insert(png.rgb(x, y));
  }
  CHECK(colours.size() > 20);
  CHECK(colours.count(0xd62728) == 1);  // the highlighted path's red
  CHECK(ex::render_dot(dot, ex::image_format::pdf).rfind("%PDF-", 0) == 0);
}

TEST_CASE("Mazur: identical runs give identical files", "[dot][json][mazur]") {
  const tr::document first = mazur_document();
  const tr::document second = mazur_document();
  ex::dot_options options;
  options.highlight = {"w1"};
  const std::string dot = ex::to_dot(first, options);
  CHECK(ex::to_dot(second, options) == dot);
  CHECK(ex::render_dot(dot, ex::image_format::svg) ==
        ex::render_dot(ex::to_dot(second, options), ex::image_format::svg));
  CHECK(ex::to_json(first) == ex::to_json(second));
}

TEST_CASE("Mazur: JSON round trip at full precision", "[json][mazur]") {
  const tr::document doc = mazur_document(2, true);
  const std::string text = ex::to_json(doc);
  const tr::document back = ex::from_json(text);
  CHECK(back == doc);
  CHECK(ex::to_json(back) == text);

  // The exact strings are the engine's 50 digits, and agree with mpmath.
  const auto& ref = chainrule::testing::reference("mazur.ref");
  const auto& it = back.iterations.front();
  const auto q = [&](const std::string& name) {
    for (std::size_t k = 0; k < back.quantities.size(); ++k) {
      if (back.quantities[k].name == name) return k;
    }
    FAIL("no quantity " << name);
    return std::size_t{0};
  };
  const std::string total = it.forward.values[q("E_total")].exact;
  CHECK(total.size() >= 50);
  CHECK(total.substr(0, 40) == ref["E_total"].substr(0, 40));
  CHECK(it.gradients[q("w5")].exact.substr(0, 40) == ref["dE_total/dw5"].substr(0, 40));
  CHECK(back.loss_history.size() == 3);
}
