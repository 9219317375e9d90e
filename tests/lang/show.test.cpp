// SPDX-License-Identifier: MIT
// The `show` directive: what the parser keeps, what the checker makes of it, and its errors.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lang_test_support.hpp"

using namespace chainrule::lang;
using namespace chainrule::lang::testing;

namespace {

const std::string model =
    "input  x = 2, y = 3\n"                               // 1
    "param  w = 0.5\n"                                    // 2
    "param  v[2] = [1, 2]\n"                              // 3
    "h = w*x*y\n"                                         // 4
    "z = h*h + v[1]*v[2]\n"                               // 5
    "train minimize z using sgd(lr = 0.1) for 1 step\n";  // 6

std::vector<std::string> error_briefs(const std::string& show_line) {
  return briefs(errors_of(model + show_line));
}

}  // namespace

TEST_CASE("show items parse and check in source order, normalised", "[lang][show]") {
  const checked_model m = check_text(model +
                                     "show d(z)/d(w), d2(z)/d(w)d(x)\n"
                                     "show d2(z)/d(w)^2\n"
                                     "show d3( z )/d(w)^2 d(v_1), d(z)/d(h)\n");
  REQUIRE(m.shows.size() == 5);
  CHECK(m.shows[0].text == "d(z)/d(w)");
  CHECK(m.shows[0].of == "z");
  CHECK(m.shows[0].wrt == std::vector<std::string>{"w"});
  CHECK(m.shows[0].location.line == 7);
  CHECK(m.shows[0].location.column == 6);
  CHECK(m.shows[1].text == "d2(z)/d(w)d(x)");
  CHECK(m.shows[1].wrt == std::vector<std::string>{"w", "x"});
  CHECK(m.shows[1].location.column == 17);
  CHECK(m.shows[2].text == "d2(z)/d(w)^2");
  CHECK(m.shows[2].wrt == std::vector<std::string>{"w", "w"});
  CHECK(m.shows[3].text == "d3(z)/d(w)^2d(v_1)");
  CHECK(m.shows[3].wrt == std::vector<std::string>{"w", "w", "v_1"});
  CHECK(m.shows[4].wrt == std::vector<std::string>{"h"});
  // The normalised text reads back as the same derivative.
  const checked_model again = check_text(model + "show " + m.shows[3].text + "\n");
  REQUIRE(again.shows.size() == 1);
  CHECK(again.shows[0].wrt == m.shows[3].wrt);
}

TEST_CASE("show works with differentiate, and a quantity may be named show", "[lang][show]") {
  const checked_model m = check_text(
      "input x = 2\nshow = x*x\ndifferentiate show\nshow d(show)/d(x)\nshow d2(show)/d(x)^2\n");
  REQUIRE(m.shows.size() == 2);
  CHECK(m.shows[0].of == "show");
  CHECK(m.shows[1].wrt == std::vector<std::string>{"x", "x"});
  CHECK(check_text("input x = 2\ny = x\ndifferentiate y\n").shows.empty());
}

TEST_CASE("show errors are located and say what would be right", "[lang][show]") {
  SECTION("unknown names, with a suggestion") {
    const auto e = errors_of(model + "show d(z)/d(ww)\n");
    REQUIRE(e.size() == 1);
    CHECK(brief(e[0]) == "7:13: unknown name 'ww'");
    REQUIRE(e[0].notes.size() == 1);
    CHECK(e[0].notes[0].message == "did you mean 'w'?");
    const auto of = errors_of(model + "show d(zz)/d(w)\n");
    REQUIRE(of.size() == 1);
    CHECK(brief(of[0]) == "7:8: unknown name 'zz'");
    REQUIRE(of[0].notes.size() == 1);
    CHECK(of[0].notes[0].message == "did you mean 'z'?");
  }
  SECTION("the order against the number of d(...) factors") {
    CHECK(error_briefs("show d2(z)/d(w)\n") ==
          std::vector<std::string>{
              "7:6: 'd2' asks for a derivative of order 2, but 1 d(...) is written after the "
              "'/'"});
    CHECK(error_briefs("show d(z)/d(w)d(x)\n") ==
          std::vector<std::string>{
              "7:6: 'd' asks for a derivative of order 1, but 2 d(...) are written after the "
              "'/'"});
    CHECK(error_briefs("show d(z)/d(w)^2\n").size() == 1);
  }
  SECTION("orders above the maximum, and zero") {
    CHECK(error_briefs("show d5(z)/d(w)^5\n") ==
          std::vector<std::string>{
              "7:6: the order 5 is not a derivative order chainrule shows; orders go from 1 to 4",
              "7:17: the power 5 is not a derivative order chainrule shows; orders go from 1 to "
              "4"});
    CHECK(error_briefs("show d0(z)/d(w)\n").size() == 1);
  }
  SECTION("the quantity differentiated must be a computed scalar") {
    CHECK(error_briefs("show d(w)/d(x)\n") ==
          std::vector<std::string>{"7:8: 'w' is a param, not computed by the model; only an "
                                   "equation has a derivative to show"});
    CHECK(error_briefs("show d(z)/d(v)\n") ==
          std::vector<std::string>{
              "7:13: 'v' is a vector of 2 elements; a shown derivative is of and by scalars"});
    CHECK(error_briefs("show d(z)/d(v_3)\n") ==
          std::vector<std::string>{"7:13: unknown name 'v_3'"});
  }
  SECTION("syntax") {
    const auto e = errors_of(model + "show d(z)\n");
    REQUIRE(e.size() == 1);
    CHECK(e[0].location.line == 7);
    CHECK(e[0].location.column == 10);
    CHECK(e[0].expected == "'/' and what to differentiate by, as in 'd(E_total)/d(w5)'");
    const auto f = errors_of(model + "show dz/d(w)\n");
    REQUIRE(f.size() == 1);
    CHECK(f[0].expected == "'(' and the quantity to differentiate, as in 'd(E_total)'");
    const auto g = errors_of(model + "show\n");
    REQUIRE(g.size() == 1);
    CHECK(g[0].expected == "a derivative such as 'd(E_total)/d(w5)' or 'd2(E_total)/d(w1)d(w2)'");
  }
}
