// SPDX-License-Identifier: MIT
// The answers format: names, derivatives in three spellings, updated values, iteration
// qualifiers, working, numbers as typed, and a located error for everything else.
#include <catch2/catch.hpp>

#include <string>

#include "chainrule/check/answers.hpp"

using chainrule::check::answer_kind;
using chainrule::check::answers_file;
using chainrule::check::parse_answers;
using chainrule::check::to_string;

namespace {

answers_file parse(const std::string& text) {
  return parse_answers(text, "answers.txt");
}

// The one diagnostic of a one-line file, formatted like the command prints it.
std::string error_of(const std::string& text) {
  const answers_file f = parse(text);
  REQUIRE(f.diagnostics.size() == 1);
  return chainrule::lang::format(f.diagnostics.front());
}

}  // namespace

TEST_CASE("names, derivatives and updated values in every spelling", "[check][answers]") {
  const answers_file f = parse(
      "# forward pass\n"
      "\n"
      "net_h1 = 0.3775\n"
      "dE_total/dw5 = 0.0822\n"
      "\xE2\x88\x82"
      "E_total/\xE2\x88\x82"
      "w6 = 0.0827   # the partial sign\n"
      "d(E_total)/d(w7) = -0.0226\n"
      "d(E_total) / d(w8) = -0.0227\n"
      "w5+ = 0.3589\n"
      "w6' = 0.4087\n"
      "E_total@2 = 0.2910\n"
      "dE_total/dw5 @ 2 = 0.08\n"
      "x[2] = 0.1\n"
      "W[1][2] = 0.2\r\n");
  REQUIRE(f.ok());
  REQUIRE(f.answers.size() == 11);
  CHECK(to_string(f.answers[0].key) == "net_h1");
  CHECK(f.answers[0].key.kind == answer_kind::value);
  CHECK(f.answers[0].name_location.line == 3);
  CHECK(to_string(f.answers[1].key) == "dE_total/dw5");
  CHECK(f.answers[1].key.kind == answer_kind::derivative);
  CHECK(to_string(f.answers[2].key) == "dE_total/dw6");
  CHECK(f.answers[2].written ==
        "\xE2\x88\x82"
        "E_total/\xE2\x88\x82"
        "w6");
  CHECK(to_string(f.answers[3].key) == "dE_total/dw7");
  CHECK(f.answers[3].number == "-0.0226");
  CHECK(to_string(f.answers[4].key) == "dE_total/dw8");
  CHECK(to_string(f.answers[5].key) == "w5+");
  CHECK(f.answers[5].key.kind == answer_kind::updated);
  CHECK(to_string(f.answers[6].key) == "w6+");
  CHECK(to_string(f.answers[7].key) == "E_total@2");
  CHECK(f.answers[7].key.iteration == 2);
  CHECK(to_string(f.answers[8].key) == "dE_total/dw5@2");
  CHECK(to_string(f.answers[9].key) == "x_2");
  CHECK(to_string(f.answers[10].key) == "W_1_2");
}

TEST_CASE("numbers as typed", "[check][answers]") {
  const answers_file f = parse(
      "a = 0.5933\n"
      "b = .5933\n"
      "c = 5.933e-1\n"
      "d = -0.019049119\n"
      "e = +2\n"
      "f = \xE2\x88\x92"
      "0.5\n");  // U+2212 minus sign
  REQUIRE(f.ok());
  CHECK(f.answers[0].number == "0.5933");
  CHECK(f.answers[1].number == ".5933");
  CHECK(f.answers[2].number == "5.933e-1");
  CHECK(f.answers[3].number == "-0.019049119");
  CHECK(f.answers[4].number == "2");
  CHECK(f.answers[5].number == "-0.5");
  CHECK(f.answers[0].number_location.column == 5);
}

TEST_CASE("working between the name and the result", "[check][answers]") {
  const answers_file f = parse(
      "E_o1 = 1/2*(0.01 - 0.75136507)^2 = 0.274811083\n"
      "dout_h1/dnet_h1 = 0.59326999(1 - 0.59326999) = 0.241300709\n"
      "E_total = 0.274811083 + 0.023560026 = 0.298371109 = 0.298371109\n"
      "out_h1 = 1/(1 + e^-0.3775) = sigmoid(0.3775) = 0.593269992\n");
  REQUIRE(f.ok());
  REQUIRE(f.answers[0].workings.size() == 1);
  CHECK(f.answers[0].workings[0].text == "1/2*(0.01 - 0.75136507)^2");
  CHECK(f.answers[0].workings[0].location.column == 8);
  // 1 2 / 0.01 0.75136507 - 2 ^ *
  CHECK(f.answers[0].workings[0].postfix.size() == 9);
  CHECK(f.answers[1].workings[0].postfix.size() == 5);  // juxtaposition multiplies
  CHECK(f.answers[2].workings.size() == 2);
  CHECK(f.answers[3].workings.size() == 2);
}

TEST_CASE("bad answers are located and say what would be right", "[check][answers]") {
  CHECK(error_of("out_h1 = 59.33%\n") ==
        "answers.txt:1:10: error: '59.33%' is a percentage; answers are plain numbers\n"
        "out_h1 = 59.33%\n"
        "         ^~~~~~\n"
        "note: expected the number itself, e.g. 0.5933 for 59.33%\n");
  CHECK(error_of("out_h1 = 0,5933\n") ==
        "answers.txt:1:10: error: bad number '0,5933'\n"
        "out_h1 = 0,5933\n"
        "         ^~~~~~\n"
        "note: expected a decimal number such as 0.5933, .5933, -0.0190 or 5.933e-1 (a point, "
        "not a comma, before the decimals)\n");
  CHECK(error_of("out_h1 0.5933\n")
            .starts_with("answers.txt:1:8: error: expected '=' after 'out_h1', found '0.5933'\n"));
  CHECK(
      error_of("out_h1 =\n").starts_with("answers.txt:1:9: error: expected a number after '='\n"));
  CHECK(error_of("out_h1 = 0.59 33\n")
            .starts_with("answers.txt:1:15: error: unexpected '33' after the number\n"));
  CHECK(error_of("= 0.5\n").starts_with(
      "answers.txt:1:1: error: expected a name at the start of the line, found '='\n"));
  CHECK(error_of("E_total@0 = 0.3\n")
            .starts_with("answers.txt:1:9: error: expected an iteration number after '@'\n"));
  CHECK(error_of("E/dw5 = 0.3\n")
            .starts_with("answers.txt:1:1: error: 'E' cannot start a derivative\n"));
  CHECK(error_of("dE_total/w5 = 0.3\n")
            .starts_with(
                "answers.txt:1:10: error: expected the variable of the derivative after '/'\n"));
  CHECK(error_of("w5+ = 0.4 - 0.5*w = 0.3\n")
            .starts_with("answers.txt:1:17: error: 'w' in the working: the working shows numbers, "
                         "not names\n"));
  CHECK(error_of("a = (((1) = 2\n")
            .starts_with("answers.txt:1:10: error: expected ')' in the working\n"));
}

TEST_CASE("one error per bad line, every bad line reported", "[check][answers]") {
  const answers_file f = parse("a = 1\nb = 2%\nc = x\nd = 4\n");
  REQUIRE(f.diagnostics.size() == 2);
  CHECK(f.diagnostics[0].location.line == 2);
  CHECK(f.diagnostics[1].location.line == 3);
  CHECK(f.answers.size() == 2);
}

TEST_CASE("files that are not answers", "[check][answers]") {
  CHECK(error_of("# only a comment\n\n").find("the answers file has no answers") !=
        std::string::npos);
  CHECK(error_of("a = 0.5 \xC3\x28\n").starts_with("answers.txt:1:9: error: invalid UTF-8"));
  CHECK(error_of(std::string("a = 0.5\0\n", 9)).starts_with("answers.txt:1:8: error: a NUL byte"));
  const std::string deep = "a = " + std::string(100, '(') + "1" + std::string(100, ')') + " = 1\n";
  CHECK(error_of(deep).find("nests more than 64 levels deep") != std::string::npos);
  const std::string signs = "a = " + std::string(100, '-') + "1 = 1\n";
  CHECK(error_of(signs).find("nests more than 64 levels deep") != std::string::npos);
  CHECK(error_of("a = 1e-99999\n").starts_with("answers.txt:1:5: error: bad number '1e-99999'"));
  CHECK(error_of("a = 0." + std::string(10'000, '1') + "\n")
            .find("a number of 10002 characters; answers are checked to at most 10000") !=
        std::string::npos);
  const std::string big(chainrule::check::max_answers_bytes + 1, '\n');
  CHECK(error_of(big).find("answers files are limited to") != std::string::npos);
}
