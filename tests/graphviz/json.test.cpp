// SPDX-License-Identifier: MIT
// to_json / from_json: exact round trip, fixed key order, schema checks and error messages.
#include <catch2/catch.hpp>

#include <string>

#include "chainrule/exporters/json.hpp"
#include "tiny_document.hpp"

namespace ex = chainrule::exporters;
using chainrule::test::tiny_document;

namespace {

std::string json_error_message(const std::string& text) {
  try {
    (void)ex::from_json(text);
  } catch (const ex::json_error& error) {
    return error.what();
  }
  return "no exception";
}

// `text` with the first occurrence of `from` replaced by `to` (which must exist).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("JSON round trip", "[json]") {
  const auto doc = tiny_document();
  const std::string text = ex::to_json(doc);
  CHECK(ex::from_json(text) == doc);
  CHECK(ex::to_json(ex::from_json(text)) == text);
  CHECK(ex::to_json(tiny_document()) == text);
  CHECK(text.back() == '\n');

  SECTION("compact") {
    const std::string compact = ex::to_json(doc, {.indent = -1});
    CHECK(compact.find('\n') == compact.size() - 1);
    CHECK(ex::from_json(compact) == doc);
  }
  SECTION("fields at their defaults in unusual places survive") {
    auto odd = doc;
    auto& node = odd.quantities[chainrule::test::tiny::net].formula.nodes[0];
    node.latex = "w_{odd}";           // a quantity node with LaTeX of its own
    node.precedence = 3;              // and a non-default precedence
    node.value.shown = "only shown";  // a number with only a shown part
    odd.iterations[0].backward[0].d.via = 5;
    odd.quantities[0].formula.nodes.push_back({});  // a default literal node
    CHECK(ex::from_json(ex::to_json(odd)) == odd);
  }
  SECTION("validation history and early stopping") {
    auto validated = doc;
    CHECK(ex::to_json(validated).find("\"validation\"") == std::string::npos);
    chainrule::trace::validation_run v;
    v.data_set = "held";
    v.rows = 3;
    v.every = 2;
    v.patience = 1;
    v.restore_best = true;
    v.history.push_back({2, 1, {"0.5", "0.5"}, {"0.25", "0.25"}, true});
    v.history.push_back({4, 2, {"0.375", "0.375"}, {"0.3", "0.3"}, false});
    v.best_update = 2;
    v.best_loss = {"0.25", "0.25"};
    v.planned_steps = 10;
    v.stopped_early = true;
    v.restored = true;
    validated.validation = v;
    validated.config.steps = 4;
    const std::string with = ex::to_json(validated);
    CHECK(ex::from_json(with) == validated);
    CHECK(contains(with,
                   "\"stopping\": \"stopped early at update 4: no improvement for 1 "
                   "validation since update 2\""));
    CHECK(contains(with, "\"stopped_early\": true"));
  }
  SECTION("empty document") {
    const chainrule::trace::document empty;
    CHECK(ex::from_json(ex::to_json(empty)) == empty);
  }
}

TEST_CASE("JSON layout", "[json]") {
  const std::string text = ex::to_json(tiny_document());
  // Fixed key order: the header first, then the document in declaration order.
  CHECK(text.rfind("{\n  \"format\": \"chainrule-trace\",\n  \"schema_version\": 1,\n"
                   "  \"document_schema\": 1,\n  \"title\": \"One sigmoid neuron\",\n",
                   0) == 0);
  const auto at = [&](const char* key) { return text.find(std::string("\"") + key + "\":"); };
  CHECK(at("settings") < at("quantities"));
  CHECK(at("quantities") < at("edges"));
  CHECK(at("edges") < at("engine_edges"));
  CHECK(at("engine_edges") < at("iterations"));
  CHECK(at("iterations") < at("loss_history"));
  CHECK(at("loss_history") < at("final_state"));
  CHECK(at("final_state") < at("final_steps"));
  // Values are the trace's decimal strings, never re-encoded as binary numbers.
  CHECK(contains(text, R"("exact": "0.785834983042558612602088472260")"));
  CHECK(contains(text, R"("shown": "0.785834983")"));
  CHECK(contains(text, R"("kind": "parameter")"));
  CHECK(contains(text, R"("combine": "product")"));
}

TEST_CASE("JSON that is not a trace this build reads", "[json]") {
  const std::string text = ex::to_json(tiny_document());

  CHECK(json_error_message(replaced(text, "\"schema_version\": 1", "\"schema_version\": 2")) ==
        "trace JSON: /schema_version: unsupported schema version 2 (this build of chainrule reads "
        "version 1)");
  CHECK(contains(
      json_error_message(replaced(text, "\"document_schema\": 1", "\"document_schema\": 0")),
      "/document_schema: unsupported document schema 0"));
  CHECK(contains(json_error_message(replaced(text, "chainrule-trace", "something-else")),
                 "/format: not a chainrule trace"));
  CHECK(contains(json_error_message("[1, 2]"), "trace JSON: /: expected an object, found array"));
  CHECK(contains(json_error_message("{\"format\": \"chainrule-trace\""),
                 "trace JSON is not valid JSON: [json.exception.parse_error.101]"));
  CHECK(contains(json_error_message(""), "not valid JSON"));

  SECTION("wrong types and missing keys name the place") {
    CHECK(json_error_message(replaced(text, "\"kind\": \"parameter\"", "\"kind\": \"weight\"")) ==
          "trace JSON: /quantities/1/kind: unknown value \"weight\" (expected one of input, "
          "target, parameter, constant, computed, loss)");
    CHECK(json_error_message(replaced(text, "\"rank\": 0", "\"rank\": -1")) ==
          "trace JSON: /quantities/0/rank: integer out of range [0, 4294967295]");
    CHECK(json_error_message(replaced(text, "\"rank\": 0", "\"rank\": 0.5")) ==
          "trace JSON: /quantities/0/rank: expected an integer, found a non-integer number");
    CHECK(json_error_message(replaced(text, "\"name\": \"x\",", "")) ==
          "trace JSON: /quantities/0: missing key \"name\"");
    CHECK(json_error_message(replaced(text, "\"exact\": \"1.5\"", "\"exact\": 1.5")) ==
          "trace JSON: /iterations/0/forward/values/0/exact: expected a string, found a "
          "non-integer number");
    CHECK(json_error_message(replaced(text, "\"index\": 1,", "\"index\": 2,")) ==
          "trace JSON: /quantities/1/index: must equal the quantity's position 1");
  }
  SECTION("dangling references") {
    CHECK(json_error_message(replaced(text, "\"from\": 0", "\"from\": 99")) ==
          "trace JSON: /edges/0/from: quantity 99 does not exist (there are 11)");
    CHECK(json_error_message(
              replaced(text, "\"args\": [\n            2,", "\"args\": [\n            7,")) ==
          "trace JSON: /quantities/4/formula/4/args/0: expression node 7 must come before its "
          "parent 4");
  }
  SECTION("deep nesting is an error, not a stack overflow") {
    const std::string deep = std::string(200000, '[') + std::string(200000, ']');
    CHECK(json_error_message(deep) == "trace JSON: /: expected an object, found array");
    const std::string hidden = replaced(text, "\"title\":", "\"later\": " + deep + ", \"title\":");
    CHECK(ex::from_json(hidden) == tiny_document());
  }
  SECTION("unknown keys are ignored (additions do not bump the version)") {
    const auto doc =
        ex::from_json(replaced(text, "\"title\":", "\"added_later\": [1, {}], \"title\":"));
    CHECK(doc == tiny_document());
  }
}

TEST_CASE("JSON round trip of shown derivatives", "[json][show]") {
  namespace q = chainrule::test::tiny;
  auto doc = tiny_document();
  CHECK(ex::to_json(doc).find("\"derivatives\"") == std::string::npos);  // only when shown
  chainrule::trace::shown_derivative d;
  d.written = "d2(y)/d(w)d(x)";
  d.of = q::y;
  d.wrt = {q::w, q::x};
  d.text = "y*(1 - y)";
  d.latex = "#1 \\cdot \\left(1 - #1\\right)";
  d.symbols = {q::y};
  d.value = {"0.25", "0.25"};
  d.evaluated_at = "the initial parameters";
  doc.derivatives.push_back(d);
  const std::string text = ex::to_json(doc);
  CHECK(contains(text, "\"written\": \"d2(y)/d(w)d(x)\""));
  CHECK(ex::from_json(text) == doc);
  CHECK(ex::to_json(ex::from_json(text)) == text);
  const std::string dangling = replaced(text, "\"symbols\": [\n        " + std::to_string(q::y),
                                        "\"symbols\": [\n        99");
  CHECK(contains(json_error_message(dangling), "/derivatives/0/symbols/0"));
}
