// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <chainrule/lang/diagnostics.hpp>
#include <chainrule/lang/functions.hpp>
#include <string>

#include "lang_test_support.hpp"

using namespace chainrule::lang;
using namespace chainrule::lang::testing;

TEST_CASE("diagnostics are formatted like a compiler's", "[lang][diagnostics]") {
  SECTION("unknown name with a caret under the name and a suggestion") {
    std::string mazur;
    {
      const program p = parse_file(example_path("mazur.chain"));
      mazur = p.source;
    }
    const auto at = mazur.find("net_h1 = w1*i1");
    mazur.replace(at + 9, 2, "w9");
    try {
      (void)check(parse(mazur, "mazur.chain"));
      FAIL("no error");
    } catch (const model_error& e) {
      CHECK(std::string(e.what()) ==
            "mazur.chain:11:10: error: unknown name 'w9'\n"
            "net_h1 = w9*i1 + w2*i2 + b1\n"
            "         ^~\n"
            "note: did you mean 'w1'?\n");
      CHECK(e.errors().size() == 1);
    }
  }
  SECTION("an error with an expectation and a located note") {
    diagnostic d;
    d.location = source_location{"m.chain", 4, 1, 2};
    d.message = "cannot assign to target 't1'";
    d.expected = "an equation for a new name";
    d.source_line = "t1 = 3";
    d.notes.push_back(diagnostic_note{source_location{"m.chain", 2, 8, 2},
                                      "'t1' is declared as a target here", "target t1 = 0.01"});
    CHECK(format(d) ==
          "m.chain:4:1: error: cannot assign to target 't1'\n"
          "t1 = 3\n"
          "^~\n"
          "note: expected an equation for a new name\n"
          "m.chain:2:8: note: 't1' is declared as a target here\n"
          "target t1 = 0.01\n"
          "       ^~\n");
  }
  SECTION("tabs before the column are kept so the caret lines up") {
    diagnostic d;
    d.severity = severity::warning;
    d.location = source_location{"t.chain", 1, 3, 3};
    d.message = "something";
    d.source_line = "\t\tabc";
    CHECK(format(d) == "t.chain:1:3: warning: something\n\t\tabc\n\t\t^~~\n");
  }
  SECTION("a caret at the end of the line") {
    const auto errors = errors_of("x = 1 +\n");
    CHECK(format(errors.at(0)) ==
          "test.chain:1:8: error: unexpected end of line\n"
          "x = 1 +\n"
          "       ^\n"
          "note: expected an operand: a number, a name, a function call or '('\n");
  }
  SECTION("very long lines are shown as a window around the column") {
    std::string line = "y = x";
    for (int i = 0; i < 100; ++i)
      line += " + x";
    line += " + oops";
    for (int i = 0; i < 100; ++i)
      line += " + x";
    const auto errors = errors_of("input x = 1\n" + line + "\ndifferentiate y\n");
    const std::string text = format(errors.at(0));
    const auto first_break = text.find('\n');
    const auto second_break = text.find('\n', first_break + 1);
    const std::string shown = text.substr(first_break + 1, second_break - first_break - 1);
    const std::string caret =
        text.substr(second_break + 1, text.find('\n', second_break + 1) - second_break - 1);
    CHECK(shown.size() == 3 + 160 + 3);
    CHECK(shown.substr(0, 3) == "...");
    CHECK(shown.substr(shown.size() - 3) == "...");
    CHECK(shown.substr(caret.find('^'), 4) == "oops");
    CHECK(caret.substr(caret.find('^')) == "^~~~");
  }
  SECTION("file-level diagnostics have no line") {
    diagnostic d;
    d.location = source_location{"big.chain", 0, 0, 1};
    d.message = "source file is too large";
    CHECK(format(d) == "big.chain: error: source file is too large\n");
  }
  SECTION("model_error sorts by location and keeps warnings") {
    const auto all =
        diagnostics_of("input x = 1\nparam w = 2, unused = 1\nb = w*x\na = zz\ndifferentiate b\n");
    REQUIRE(all.size() == 1);  // warnings are only computed for models without errors
    CHECK(brief(all[0]) == "4:5: unknown name 'zz'");
  }
}

TEST_CASE("the function and optimizer tables", "[lang][diagnostics]") {
  CHECK(functions().size() == 30);
  CHECK(find_function("sparse_cce")->parameters[0].literal_only);
  CHECK(find_function("l2")->shape == function_shape::loss);
  const auto* leaky = find_function("leaky_relu");
  REQUIRE(leaky != nullptr);
  CHECK(leaky->form == "leaky_relu(x, alpha = 0.01)");
  CHECK(leaky->parameters[1].literal_only);
  CHECK(find_function("softmax")->shape == function_shape::vector);
  CHECK(find_function("nope") == nullptr);
  CHECK(optimizers().size() == 6);
  CHECK(find_optimizer("adam")->parameters.size() == 4);
  for (const auto& f : functions()) {
    INFO(f.name);
    CHECK(f.form.substr(0, f.name.size() + 1) == std::string(f.name) + "(");
  }
}
