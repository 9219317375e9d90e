// SPDX-License-Identifier: MIT
// examples/mazur.chain through the language front end and the training run: the same worked
// example as mazur.test.cpp, built the way the command-line tool builds it (1/2 written as a
// division of two literals). Expected figures: tests/reference/mazur.ref and the tutorial.
#include <catch2/catch.hpp>

#include "chainrule/lang/lang.hpp"
#include "chainrule/lang/lower.hpp"
#include "chainrule/trace/train.hpp"
#include "support.hpp"

using namespace chainrule;
using namespace chainrule::trace;
using trace_test::agrees;
using trace_test::read_reference;
using trace_test::ref_value;
using trace_test::render;

TEST_CASE("examples/mazur.chain: lowered, trained one step, traced", "[trace][lang]") {
  const auto ref = read_reference("mazur.ref");
  const lang::checked_model model =
      lang::load_model(std::string(CHAINRULE_SOURCE_DIR) + "/examples/mazur.chain");
  lang::lowered_model<mp_real> low = lang::lower<mp_real>(model);
  REQUIRE(low.train.has_value());
  run_options o;
  o.record.targets = low.targets;
  o.record.parameters = low.params;
  o.record.display = low.display_format();
  o.optimizer.name = low.train->optimizer.name;
  for (const auto& a : low.train->optimizer.arguments)
    o.optimizer.arguments.emplace_back(a.name, a.value);
  o.steps = low.train->count;
  const document doc = run(*low.graph, low.objective, o);

  const quantity_index w5 = static_cast<quantity_index>(low.node("w5"));
  const iteration& it = doc.iterations.at(0);
  const gradient_step* chain = nullptr;
  for (const auto& s : it.backward) {
    if (s.parameter == w5) chain = &s;
  }
  REQUIRE(chain != nullptr);
  REQUIRE(chain->factors.size() == 3);
  // 1/2 * 2 cancels although 1/2 is an intermediate division of two literals.
  CHECK(render(doc, chain->factors[0].d) == "dE_total/dout_o1");
  CHECK(render(doc, chain->factors[0].form) == "-(t1 - out_o1)");
  CHECK(chain->value.shown == "0.082167041");
  for (const auto& s : it.forward_steps) {
    if (doc.quantities[s.quantity].name == "E_o1")
      CHECK(render(doc, s.formula) == "1/2*(t1 - out_o1)^2");
  }
  CHECK(doc.final_state.loss.shown == "0.291027774");
  CHECK(agrees(doc.final_state.loss.exact, ref_value(ref, "E_total_after_simultaneous"), 48));
}
