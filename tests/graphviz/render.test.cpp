// SPDX-License-Identifier: MIT
// Rendering DOT in-process: formats, determinism, errors, threads, and that the pictures have
// content (decoded PNG, and the PDF rasterised by pdftoppm).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "chainrule/exporters/graphviz.hpp"
#include "png_decode.hpp"

namespace ex = chainrule::exporters;
using chainrule::test::decode_png;

namespace {

const std::string sample_dot = R"(digraph sample {
  rankdir=LR;
  a [shape=box, style=filled, fillcolor="#dbeafe", label=<<B>a</B><BR/>value = 0.05>];
  b [label="b & c"];
  a -> b [label="0.5", color="#d62728"];
  a -> c;
}
)";

// How many pixels differ from the top-left (background) pixel, and how many distinct colours.
struct pixel_summary {
  std::size_t foreground = 0;
  std::size_t colours = 0;
};

pixel_summary summarise(const chainrule::test::png_image& image) {
  pixel_summary summary;
  const std::uint32_t background = image.rgb(0, 0);
  std::set<std::uint32_t> colours;
  for (std::uint32_t y = 0; y < image.height; ++y) {
    for (std::uint32_t x = 0; x < image.width; ++x) {
      const std::uint32_t pixel = image.rgb(x, y);
      if (pixel != background) ++summary.foreground;
      if (colours.size() < 1000) colours.insert(pixel);
    }
  }
  summary.colours = colours.size();
  return summary;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// A fresh directory under the system temp dir, removed at scope exit.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "chainrule-gv-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

}  // namespace

TEST_CASE("format names", "[graphviz]") {
  CHECK(ex::format_name(ex::image_format::svg) == "svg");
  CHECK(ex::format_name(ex::image_format::png) == "png");
  CHECK(ex::format_name(ex::image_format::pdf) == "pdf");
  CHECK(ex::parse_image_format("png") == ex::image_format::png);
  CHECK(ex::parse_image_format("pdf") == ex::image_format::pdf);
  CHECK_FALSE(ex::parse_image_format("jpeg").has_value());
  CHECK_FALSE(ex::parse_image_format("SVG").has_value());
}

TEST_CASE("SVG rendering", "[graphviz]") {
  const std::string svg = ex::render_dot(sample_dot, ex::image_format::svg);
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("<title>sample</title>") != std::string::npos);
  CHECK(svg.find("value = 0.05") != std::string::npos);
  CHECK(svg.find("b &amp; c") != std::string::npos);
  CHECK(svg.find("#d62728") != std::string::npos);

  SECTION("byte-identical on every call") {
    for (int i = 0; i < 3; ++i)
      CHECK(ex::render_dot(sample_dot, ex::image_format::svg) == svg);
  }
  SECTION("anonymous graphs get the same name every time") {
    // cgraph's default would name these %1, %3, %5, ... from a process-wide counter.
    const std::string anonymous = "digraph { x -> y; subgraph { rank=same; y; z } }";
    const std::string first = ex::render_dot(anonymous, ex::image_format::svg);
    ex::render_dot(sample_dot, ex::image_format::svg);
    CHECK(ex::render_dot(anonymous, ex::image_format::svg) == first);
    CHECK(first.find("<title>%1</title>") != std::string::npos);
  }
}

TEST_CASE("PNG rendering has content", "[graphviz]") {
  const std::string png = ex::render_dot(sample_dot, ex::image_format::png);
  const auto image = decode_png(png);
  // Three nodes in a row, left to right: wider than tall, and of a plausible size at 96 dpi.
  CHECK(image.width > image.height);
  CHECK(image.width > 150);
  CHECK(image.height > 40);
  const pixel_summary summary = summarise(image);
  INFO(image.width << "x" << image.height << ", " << summary.foreground << " foreground pixels");
  CHECK(summary.foreground > 500);
  CHECK(summary.foreground < static_cast<std::size_t>(image.width) * image.height / 2);
  CHECK(summary.colours > 10);  // anti-aliased text, the fill, the red edge
  CHECK(ex::render_dot(sample_dot, ex::image_format::png) == png);
}

TEST_CASE("PDF rendering is reproducible and rasterises to a picture", "[graphviz]") {
  const std::string pdf = ex::render_dot(sample_dot, ex::image_format::pdf);
  CHECK(pdf.rfind("%PDF-", 0) == 0);
  CHECK(pdf.find("/CreationDate (D:19700101000000") != std::string::npos);
  CHECK(ex::render_dot(sample_dot, ex::image_format::pdf) == pdf);

  temp_dir dir;
  {
    std::ofstream out(dir.path / "graph.pdf", std::ios::binary);
    out << pdf;
  }
  const std::string command = "pdftoppm -png -r 72 -singlefile '" +
                              (dir.path / "graph.pdf").string() + "' '" +
                              (dir.path / "page").string() + "' 2>&1";
  if (std::system("command -v pdftoppm >/dev/null 2>&1") != 0) {
    WARN("pdftoppm (poppler-utils) not installed: PDF not rasterised");
    return;
  }
  REQUIRE(std::system(command.c_str()) == 0);
  const auto image = decode_png(read_file(dir.path / "page.png"));
  CHECK(image.width > image.height);
  const pixel_summary summary = summarise(image);
  CHECK(summary.foreground > 300);
  CHECK(summary.colours > 10);
}

TEST_CASE("invalid DOT gives Graphviz's message", "[graphviz]") {
  try {
    ex::render_dot("digraph g {\n  a -> b\n  c -> \n}\n", ex::image_format::svg);
    FAIL("no exception");
  } catch (const ex::graphviz_error& error) {
    const std::string message = error.what();
    INFO(message);
    CHECK(message.find("could not parse") != std::string::npos);
    CHECK(message.find("syntax error in line 4") != std::string::npos);
  }
  // Line numbers start afresh for every text, whatever was parsed before.
  (void)ex::parse_dot("digraph ok {\n  a -> b\n}\n\n\n");
  try {
    (void)ex::parse_dot("digraph g {\n  a -> b\n  c -> \n}\n");
    FAIL("no exception");
  } catch (const ex::graphviz_error& error) {
    CHECK(std::string(error.what()).find("syntax error in line 4 near") != std::string::npos);
  }
  // The failed parse leaves nothing behind.
  CHECK_NOTHROW(ex::render_dot(sample_dot, ex::image_format::svg));
  CHECK_THROWS_AS(ex::parse_dot("not dot at all"), ex::graphviz_error);
  CHECK_THROWS_AS(ex::render_dot("", ex::image_format::svg), ex::graphviz_error);
}

TEST_CASE("parse_dot describes nodes, edges and subgraphs", "[graphviz]") {
  const ex::dot_graph g = ex::parse_dot(
      "digraph net { rankdir=LR; node [shape=box];\n"
      "  a [label=<<B>a</B>>]; b; \"c d\" [label=\"c\\\"d\"];\n"
      "  subgraph rank_0 { rank=same; a; b; }\n"
      "  subgraph cluster_x { label=X; \"c d\"; subgraph inner { e } }\n"
      "  a -> b [label=\"0.5\"]; b -> \"c d\"; a -> e;\n"
      "}\n");
  CHECK(g.name == "net");
  CHECK(g.directed);
  CHECK_FALSE(g.strict);
  CHECK(g.attributes.at("rankdir") == "LR");
  REQUIRE(g.nodes.size() == 4);
  CHECK(g.nodes[0].name == "a");
  CHECK(g.nodes[0].attributes.at("label") == "<B>a</B>");
  CHECK(g.nodes[0].html_attributes == std::vector<std::string>{"label"});
  CHECK(g.nodes[1].attributes.at("label") == "\\N");  // the default, untouched
  CHECK(g.nodes[1].attributes.at("shape") == "box");
  CHECK(g.nodes[2].name == "c d");
  CHECK(g.nodes[2].attributes.at("label") == "c\"d");
  CHECK(g.nodes[2].html_attributes.empty());
  REQUIRE(g.edges.size() == 3);
  CHECK(g.edges[0].name == "a -> b");
  CHECK(g.edges[0].attributes.at("label") == "0.5");
  CHECK(g.edges[1].name == "a -> e");
  CHECK(g.edges[2].name == "b -> c d");
  // In the order they appear in the text, parents before children.
  REQUIRE(g.subgraphs.size() == 3);
  CHECK(g.subgraphs[0].name == "rank_0");
  CHECK(g.subgraphs[0].attributes.at("rank") == "same");
  CHECK(g.subgraphs[0].nodes == std::vector<std::string>{"a", "b"});
  CHECK(g.subgraphs[1].name == "cluster_x");
  CHECK(g.subgraphs[1].parent.empty());
  CHECK(g.subgraphs[1].nodes == std::vector<std::string>{"c d", "e"});
  CHECK(g.subgraphs[2].name == "inner");
  CHECK(g.subgraphs[2].parent == "cluster_x");
  CHECK(g.subgraphs[2].attributes.at("rank").empty());
}

TEST_CASE("text after the graph does not leak into the next parse", "[graphviz]") {
  // cgraph reads one graph and keeps the rest of its input buffered for the next read.
  const ex::dot_graph first = ex::parse_dot("digraph a { x } digraph b { y }");
  CHECK(first.name == "a");
  const ex::dot_graph second = ex::parse_dot("digraph c { z }");
  CHECK(second.name == "c");
  REQUIRE(second.nodes.size() == 1);
  CHECK(second.nodes[0].name == "z");
}

TEST_CASE("deeply nested subgraphs are walked without recursion", "[graphviz]") {
  std::string dot = "digraph deep {";
  constexpr int depth = 2000;
  for (int i = 0; i < depth; ++i)
    dot += " subgraph s" + std::to_string(i) + " {";
  dot += " leaf";
  for (int i = 0; i < depth; ++i)
    dot += " }";
  dot += " }";
  const ex::dot_graph g = ex::parse_dot(dot);
  REQUIRE(g.subgraphs.size() == depth);
  CHECK(g.subgraphs.back().name == "s" + std::to_string(depth - 1));
  CHECK(g.subgraphs.back().parent == "s" + std::to_string(depth - 2));
}

TEST_CASE("rendering from several threads is serialised and stays deterministic", "[graphviz]") {
  const std::string reference = ex::render_dot(sample_dot, ex::image_format::svg);
  constexpr int threads = 4;
  constexpr int renders = 25;
  std::vector<int> mismatches(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < renders; ++i) {
        const auto format = (i % 5 == 4) ? ex::image_format::png : ex::image_format::svg;
        const std::string out = ex::render_dot(sample_dot, format);
        if (format == ex::image_format::svg && out != reference) ++mismatches[t];
        if (i % 7 == 0) (void)ex::parse_dot(sample_dot);
      }
    });
  }
  for (std::thread& thread : pool)
    thread.join();
  for (int t = 0; t < threads; ++t)
    CHECK(mismatches[t] == 0);
}
