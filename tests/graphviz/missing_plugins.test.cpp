// SPDX-License-Identifier: MIT
// Graphviz without its plugin registry (config6a), as after installing the libraries without
// running `dot -c`: the error must say what to do. A separate executable because Graphviz's
// context is created once per process, at the first render.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "chainrule/exporters/graphviz.hpp"

namespace ex = chainrule::exporters;

TEST_CASE("missing Graphviz plugins are reported with the fix", "[graphviz]") {
  // GVBINDIR tells Graphviz where its plugins and config6a are; this source folder has neither.
  REQUIRE(setenv("GVBINDIR", CHAINRULE_SOURCE_DIR "/tests/graphviz", 1) == 0);
  for (const auto format : {ex::image_format::svg, ex::image_format::png}) {
    try {
      ex::render_dot("digraph g { a -> b }", format);
      FAIL("no exception");
    } catch (const ex::graphviz_error& error) {
      const std::string message = error.what();
      INFO(message);
      CHECK(message.find("Layout type: \"dot\" not recognized") != std::string::npos);
      CHECK(message.find("dot -c") != std::string::npos);
      CHECK(message.find("config6a") != std::string::npos);
    }
  }
  // Parsing needs no plugins.
  CHECK(ex::parse_dot("digraph g { a -> b }").edges.size() == 1);
}
