// SPDX-License-Identifier: MIT
// The plain-text worked example printed by `chainrule run`.
#include <catch2/catch.hpp>
#include <string>

#include "chainrule/engine/engine.hpp"
#include "chainrule/exporters/text.hpp"
#include "chainrule/trace/record.hpp"
#include "chainrule/trace/train.hpp"
#include "support.hpp"

using chainrule::exporters::to_text;

TEST_CASE("the text worked example", "[text][mazur]") {
  const std::string text = to_text(latex_test::mazur_document());
  CHECK(text.find("  net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775\n") !=
        std::string::npos);
  CHECK(text.find("  E_total = E_o1 + E_o2 = 0.274811083 + 0.023560026 = 0.298371109\n") !=
        std::string::npos);
  CHECK(text.find("    dE_total/dw5 = dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5\n") !=
        std::string::npos);
  CHECK(
      text.find("      dE_total/dout_o1 = -(t1 - out_o1) = -(0.01 - 0.75136507) = 0.74136507\n") !=
      std::string::npos);
  CHECK(text.find("    dE_total/dw5 = 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041\n") !=
        std::string::npos);
  CHECK(text.find("  w5+ = w5 - eta*dE_total/dw5 = 0.4 - 0.5*0.082167041 = 0.35891648\n") !=
        std::string::npos);
  CHECK(text.find("  w1+ = w1 - eta*dE_total/dw1 = 0.15 - 0.5*0.000438568 = 0.149780716\n") !=
        std::string::npos);
  CHECK(text.find("Error after update 1: E_total = 0.291027774 (before: 0.298371109)\n") !=
        std::string::npos);
  CHECK(text.find("Values and gradients") != std::string::npos);
  CHECK(text == to_text(latex_test::mazur_document()));
}

TEST_CASE("long derivations are aligned one '=' per line", "[text]") {
  chainrule::exporters::text_options narrow;
  narrow.width = 60;
  CHECK(to_text(latex_test::mazur_document(), narrow)
            .find("  net_o1 = w5*out_h1 + w6*out_h2 + b2\n"
                  "         = 0.4*0.593269992 + 0.45*0.596884378 + 0.6\n"
                  "         = 1.105905967\n") != std::string::npos);
  SECTION("and rows still too wide break between terms") {
    narrow.width = 40;
    CHECK(to_text(latex_test::mazur_document(), narrow)
              .find("  net_o1 = w5*out_h1 + w6*out_h2 + b2\n"
                    "         = 0.4*0.593269992\n"
                    "             + 0.45*0.596884378 + 0.6\n"
                    "         = 1.105905967\n") != std::string::npos);
  }
}

TEST_CASE("the loss history of a longer run", "[text][history]") {
  latex_test::mazur_run run;
  run.steps = 3;
  const std::string text = to_text(latex_test::mazur_document(run));
  CHECK(text.find("Loss history\n------------\n  updates  E_total\n        0  0.298371109\n"
                  "        1  0.291027774\n") != std::string::npos);
}

TEST_CASE("control characters in the title cannot reach the terminal", "[text]") {
  latex_test::mazur_run run;
  run.title = "x\x1b[2Jy";
  const std::string text = to_text(latex_test::mazur_document(run));
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.substr(0, 8) == "x?[2Jy\n=");
}

TEST_CASE("a one-link chain and a constant local derivative read naturally", "[text]") {
  using namespace chainrule;
  // E = (w*x)^2 + step(w*x): dE/dw = 2*w*x*x + 0 = 2*3*0.5*0.5 = 1.5 by hand, the step's
  // derivative being 0 everywhere but its kink.
  graph<double> g;
  auto x = g.input("x", "0.5");
  auto w = g.parameter("w", "3");
  auto b = step(w * x).named("b");
  auto loss = ((w * x) * (w * x) + b).named("E");
  g.backward(loss);
  const std::string text = to_text(trace::record(g, loss.id(), {}));
  // The 0 of step() is worked out here, not "from above"; nothing reads dE/dw = dE/dw.
  CHECK(text.find("      db/dw = 0\n") != std::string::npos);
  CHECK(text.find("(from above)") == std::string::npos);
  CHECK(text.find("dE/dw = dE/dw") == std::string::npos);
  CHECK(text.find("= 1.5\n") != std::string::npos);

  // A loss that is the parameter's own equation: one derivation, no chain line.
  graph<double> h;
  auto hx = h.input("x", "0.5");
  auto hw = h.parameter("w", "3");
  auto direct = (hw * hx).named("E");
  h.backward(direct);
  const std::string one = to_text(trace::record(h, direct.id(), {}));
  CHECK(one.find("  Gradient for w\n    dE/dw = x = 0.5\n") != std::string::npos);
}

TEST_CASE("row by row, the error after an update is shown on the same row", "[text]") {
  using namespace chainrule;
  // E = 1/2 (t - w x)^2 on rows (1, 2), (2, 3), lr 0.1 (worked out in tests/trace/batch.test.cpp):
  // update 1 takes row 1's E from 1.125 to 0.91125.
  graph<mp_real> g(50);
  auto x = g.input("x", "1");
  auto t = g.input("t", "2");
  auto w = g.parameter("w", "0.5");
  const auto loss = (g.constant("0.5") * pow(t - w * x, 2)).named("E");
  trace::run_options o;
  o.optimizer = {"sgd", {{"lr", "0.1"}}};
  o.steps = 2;
  o.data.columns = {x.id(), t.id()};
  o.data.values = {"1", "2", "2", "3"};
  o.record.targets = {t.id()};
  const std::string text = to_text(trace::run(g, loss.id(), o));
  CHECK(text.find("Error after update 1 on the same data row: E = 0.91125 (before: 1.125)\n") !=
        std::string::npos);
}
