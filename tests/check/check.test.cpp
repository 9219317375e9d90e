// SPDX-License-Identifier: MIT
// `chainrule check` against Mazur's 2-2-2 example (examples/mazur.chain).
//
// Where the numbers come from: tests/check/data/mazur_*.txt are written by
// tests/check/make_answers.py (mpmath at 50 digits, a simulated student; see its docstring);
// seed_slides_*.txt are lines transcribed from two sets of lecture slides of the example; the
// other numbers below are Mazur's published values ("A Step by Step Backpropagation Example")
// or follow from them by hand.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "chainrule/check/check.hpp"
#include "chainrule/lang/parser.hpp"

using chainrule::check::checked_answer;
using chainrule::check::report;
using chainrule::check::verdict;

namespace {

const std::filesystem::path source_dir = CHAINRULE_SOURCE_DIR;
const std::filesystem::path data_dir = source_dir / "tests" / "check" / "data";

const chainrule::lang::checked_model& mazur() {
  static const chainrule::lang::checked_model model =
      chainrule::lang::load_model(source_dir / "examples" / "mazur.chain");
  return model;
}

report check_file(const std::string& name) {
  return chainrule::check::check_answers(mazur(), chainrule::check::read_answers(data_dir / name));
}

report check_text(const std::string& text, const chainrule::lang::checked_model& model = mazur()) {
  return chainrule::check::check_answers(model,
                                         chainrule::check::parse_answers(text, "answers.txt"));
}

const checked_answer& find(const report& r, const std::string& key) {
  const auto it = std::find_if(r.answers.begin(), r.answers.end(),
                               [&](const checked_answer& c) { return c.key == key; });
  if (it == r.answers.end()) FAIL("no answer " << key);
  return *it;
}

std::string errors_of(const std::string& text) {
  try {
    (void)check_text(text);
  } catch (const chainrule::lang::model_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("exact values copied at 4, 6 and 9 decimals score full marks", "[check]") {
  for (const char* file : {"mazur_exact_4.txt", "mazur_exact_6.txt", "mazur_exact_9.txt"}) {
    INFO(file);
    const report r = check_file(file);
    CHECK(r.totals.checked == 35);
    CHECK(r.totals.correct == 35);
    CHECK(r.totals.marks == 35);
    for (const checked_answer& c : r.answers) {
      INFO(c.key << " = " << c.given.number);
      CHECK(c.result == verdict::correct);
    }
  }
}

TEST_CASE("rounding every intermediate to 4 decimals is drift, never wrong", "[check]") {
  const report r = check_file("mazur_carried_4.txt");
  CHECK(r.totals.wrong == 0);
  CHECK(r.totals.carried == 0);
  CHECK(r.totals.drift > 0);
  CHECK(r.totals.marks == r.totals.checked);
  for (const checked_answer& c : r.answers) {
    INFO(c.key << " = " << c.given.number << ": " << c.explanation);
    CHECK((c.result == verdict::correct || c.result == verdict::drift));
  }
}

TEST_CASE("one early mistake: one wrong here, the rest follows from it", "[check]") {
  const report r = check_file("mazur_early_mistake.txt");
  const checked_answer& out_h1 = find(r, "out_h1");
  CHECK(out_h1.result == verdict::wrong);
  CHECK(out_h1.explanation.find("two digits swapped") != std::string::npos);
  CHECK(r.totals.wrong == 1);
  CHECK(r.totals.carried >= 20);
  for (const checked_answer& c : r.answers) {
    if (c.result != verdict::carried) continue;
    INFO(c.key);
    REQUIRE(c.origin);
    CHECK(r.answers[*c.origin].key == "out_h1");
  }
  // Steps that do not use out_h1 are right.
  for (const char* key : {"net_h1", "net_h2", "out_h2", "dnet_h1/dw1"}) {
    CHECK(find(r, key).result == verdict::correct);
  }
  CHECK(find(r, "net_o1").result == verdict::carried);
  CHECK(find(r, "dE_total/dw1").result == verdict::carried);
  CHECK(find(r, "w1+").result == verdict::carried);
}

TEST_CASE("each planted mistake is found with its cause", "[check]") {
  const report r = check_file("mazur_planted.txt");
  const std::pair<const char*, const char*> planted[] = {
      {"net_h2", "two digits swapped"},
      {"net_o1", "updated weights used where the original ones were due"},
      {"E_o2", "factor 1/2 dropped"},
      {"dE_total/dout_o1", "sign flipped"},
      {"dout_o1/dnet_o1", "written as sigmoid(x) = out_o1"},
      {"dout_o2/dnet_o2", "x(1 - x) taken of net_o2 instead of out_o2"},
      // With eta = 0.5 the two mistakes give the same number, and the report says so.
      {"w6+", "learning rate missing or doubled"},
      {"w7+", "learning rate missing or doubled"},
      {"dE_total/dw1", "misplaced decimal point"},
      {"dout_h1/dnet_h1", "one digit differs (8 where 0.241300709 has 3)"},
      {"w2+", "a digit left out (right: 0.19956143)"},
      {"w8+", "an extra digit 7 (right: 0.561370121)"},
  };
  for (const auto& [key, cause] : planted) {
    const checked_answer& c = find(r, key);
    INFO(key << " = " << c.given.number << ": " << c.explanation);
    CHECK(c.result == verdict::wrong);
    CHECK(c.explanation.find(cause) != std::string::npos);
  }
  CHECK(r.totals.wrong == 12);
  CHECK(r.totals.correct + r.totals.carried == r.totals.checked - 12);
}

TEST_CASE("the Mazur lines of two sets of slides: every typo is found", "[check]") {
  SECTION("slides 1") {
    const report r = check_file("seed_slides_1.txt");
    // A) prints dE_total/dout_o1 as 0.74136607 inside the working; the result follows from it.
    const checked_answer& dout_h1 = find(r, "dE_total/dout_h1");
    CHECK(dout_h1.result == verdict::wrong);
    CHECK(dout_h1.explanation.find("0.74136607 is a typo: one digit differs") != std::string::npos);
    // B) 0.241800709 for 0.241300709.
    const checked_answer& b = find(r, "dout_h1/dnet_h1");
    CHECK(b.result == verdict::wrong);
    CHECK(b.explanation.find("one digit differs") != std::string::npos);
    // The gradient is right, but not what the working above it gives.
    const checked_answer& w1 = find(r, "dE_total/dw1");
    CHECK(w1.result == verdict::correct);
    REQUIRE(w1.notes.size() == 1);
    CHECK(w1.notes[0].find("gives 0.000439") != std::string::npos);
    // b) through 1/(2(cosh(x) + 1)) is the same number as out(1 - out).
    CHECK(find(r, "dout_o1/dnet_o1").result == verdict::correct);
    CHECK(find(r, "dout_o1/dnet_o1").notes.empty());
    CHECK(r.totals.wrong == 2);
    CHECK(r.totals.carried == 0);
  }
  SECTION("slides 2") {
    const report r = check_file("seed_slides_2.txt");
    // (0.01 - 0.753136507)^2: an extra digit in the working of a right result.
    const checked_answer& e_o1 = find(r, "E_o1");
    CHECK(e_o1.result == verdict::correct);
    REQUIRE(!e_o1.notes.empty());
    CHECK(e_o1.notes[0].find("0.753136507 is a typo: an extra digit 3") != std::string::npos);
    // 0.55399425 + -0.019049119: the first term lost a zero.
    const checked_answer& sum = find(r, "dE_total/dout_h1");
    CHECK(sum.result == verdict::correct);
    REQUIRE(!sum.notes.empty());
    CHECK(sum.notes[0].find("0.55399425 is a misplaced decimal point") != std::string::npos);
    // -0.019049119 for -0.0190491182...: one unit in the last digit.
    CHECK(find(r, "dE_o2/dout_h1").result == verdict::drift);
    // 0.291027924 is the sequential order's error after the update; the model (and the slides'
    // own note) use the original weights for every gradient: 0.291027774.
    const checked_answer& after = find(r, "E_total@2");
    CHECK(after.result == verdict::wrong);
    CHECK(after.exact_rounded == "0.291027774");
    CHECK(after.explanation.find("sequential order") != std::string::npos);
    CHECK(r.totals.wrong == 1);
  }
}

TEST_CASE("with `order sequential` the published 0.291027924 is right", "[check]") {
  std::ifstream in(source_dir / "examples" / "mazur.chain");
  std::stringstream text;
  text << in.rdbuf();
  std::string model_text = text.str();
  const std::string simultaneous = "for 1 step";
  model_text.replace(model_text.find(simultaneous), simultaneous.size(),
                     "for 1 step order sequential");
  const auto model = chainrule::lang::check(chainrule::lang::parse(model_text, "mazur.chain"));
  const report r = check_text("E_total@2 = 0.291027924\nw5+ = 0.35891648\n", model);
  CHECK(find(r, "E_total@2").result == verdict::correct);
  CHECK(find(r, "w5+").result == verdict::correct);
  CHECK(r.update_order == "sequential");
}

TEST_CASE("rounding rules and spellings the student may use", "[check]") {
  // out_h1 = 0.59326999210..: 0.5933 (4), 0.59327 (5, half-up and half-even), truncated
  // 0.5932 (4, toward zero); dE_total/dw7 = -0.0226025406...
  const report r = check_text(
      "out_h1 = 0.5932\n"
      "net_h1 = .3775\n"
      "out_o1 = 7.5136507e-1\n"
      "d(E_total)/d(w7) = -0.02260254\n"
      "\xE2\x88\x82"
      "E_total/\xE2\x88\x82"
      "w8 = -0.022740242\n"
      "w5' = 0.35891648\n");
  for (const checked_answer& c : r.answers) {
    INFO(c.key);
    CHECK(c.result == verdict::correct);
  }
  CHECK(find(r, "out_h1").exact_rounded == "0.5933");
  // Not given: listed, not counted.
  CHECK(r.totals.checked == 6);
  CHECK(std::find(r.missing.begin(), r.missing.end(), "E_total") != r.missing.end());
  CHECK(std::find(r.missing.begin(), r.missing.end(), "dE_total/dw1") != r.missing.end());
  CHECK(std::find(r.missing.begin(), r.missing.end(), "w5+") == r.missing.end());
}

TEST_CASE("answers that cannot be checked are located errors", "[check]") {
  CHECK(errors_of("out_h1 = 0.5933\nout_hl = 0.5\n") ==
        "answers.txt:2:1: error: unknown name 'out_hl' in 'out_hl'\n"
        "out_hl = 0.5\n"
        "^~~~~~\n"
        "note: expected a name from the model\n"
        "note: did you mean 'out_h1'?\n");
  const std::string twice = errors_of(
      "dE_total/dw5 = 0.08\n\xE2\x88\x82"
      "E_total/\xE2\x88\x82"
      "w5 = 0.08\n");
  CHECK(
      twice.starts_with("answers.txt:2:1: error: 'dE_total/dw5' is given twice (as "
                        "'dE_total/dw5' on line 1 and here)\n"));
  CHECK(twice.find("answers.txt:1:1: note: first given here") != std::string::npos);
  CHECK(errors_of("w5+@2 = 0.3\n")
            .starts_with("answers.txt:1:1: error: 'w5+@2' asks for iteration 2, but the model "
                         "trains for 1 step\n"));
  CHECK(errors_of("E_total@3 = 0.3\n").find("an iteration from 1 to 2") != std::string::npos);
  CHECK(errors_of("b1+ = 0.3\n")
            .starts_with("answers.txt:1:1: error: 'b1' is not a trained parameter, so it has no "
                         "updated value\n"));
  CHECK(
      errors_of("dw5/dE_total = 0.3\n")
          .starts_with(
              "answers.txt:1:1: error: 'dw5/dE_total' is not a quantity of the worked example\n"));
  CHECK(errors_of("out_h1 = 59.33%\n")
            .starts_with("answers.txt:1:10: error: '59.33%' is a percentage"));
}

TEST_CASE("the report is text and JSON, the same every time", "[check]") {
  const report r = check_file("seed_slides_1.txt");
  const std::string text = chainrule::check::to_text(r);
  CHECK(text == chainrule::check::to_text(check_file("seed_slides_1.txt")));
  CHECK(text.find("Summary: 25 checked:") != std::string::npos);
  CHECK(text.find("Score: 23/25 = 92%") != std::string::npos);
  const std::string json = chainrule::check::to_json(r);
  CHECK(json.find("\"verdict\": \"wrong\"") != std::string::npos);
  CHECK(json.find("\"marks\": 23") != std::string::npos);
}

TEST_CASE("at one decimal, a number one whole unit away is wrong, not rounding drift", "[check]") {
  // By hand: y = 0.2*1.5 + 0.4*(-0.5) = 0.1 exactly; E = 1/2*(1 - 0.1)^2 = 0.405 exactly. One
  // update of plain gradient descent (dE/dw = -(t - y)*x): w1+ = 0.2 + 0.5*0.9*1.5 = 0.875,
  // w2+ = 0.4 + 0.5*0.9*(-0.5) = 0.175, so y@2 = 0.875*1.5 + 0.175*(-0.5) = 1.225.
  const auto model = chainrule::lang::check(chainrule::lang::parse(
      "input x1 = 1.5, x2 = -0.5\ntarget t = 1\nparam w1 = 0.2, w2 = 0.4\n"
      "y = w1*x1 + w2*x2\nE = 1/2*(t - y)^2\ntrain minimize E using sgd(lr = 0.5) for 1 step\n",
      "neuron.chain"));
  // 0.2 is 0.1 away from the exact 0.1: "within one unit" at one decimal, but no rounding of
  // 0.1 gives it and nothing was computed before it to carry rounding from.
  const report r = check_text("y = 0.2\nE = 0.405\n", model);
  CHECK(find(r, "y").result == verdict::wrong);
  CHECK(find(r, "E").result == verdict::correct);
  // With the student's w1+ = 0.8 (0.875 truncated, which counts as correct) and w2+ = 0.2,
  // y@2 = 0.8*1.5 + 0.2*(-0.5) = 1.1; the student's 1.0 is one whole unit from that and far from
  // 1.225: wrong here, not drift. The working shows the negative number bracketed.
  const report own = check_text("w1+ = 0.8\nw2+ = 0.2\ny@2 = 1.0\n", model);
  CHECK(find(own, "w1+").result == verdict::correct);
  const checked_answer& y2 = find(own, "y@2");
  CHECK(y2.formula_with_given == "0.8*1.5 + 0.2*(-0.5)");
  CHECK(y2.from_given == "1.1");
  CHECK(y2.result == verdict::wrong);
  // 1.3 is what the right w+ at one decimal give (0.9*1.5 + 0.2*(-0.5) = 1.25, rounded half up):
  // rounding drift.
  CHECK(find(check_text("w1+ = 0.9\nw2+ = 0.2\ny@2 = 1.3\n", model), "y@2").result ==
        verdict::drift);
  // 1.2 is 1.225 rounded toward zero: correct.
  CHECK(find(check_text("y@2 = 1.2\n", model), "y@2").result == verdict::correct);
}
