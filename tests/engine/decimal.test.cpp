// SPDX-License-Identifier: MIT
// Exact decimal input and output (decimal.hpp): parsing without a detour through double, the
// validation messages, and the formatter's rounding, carries, signs, magnitudes and zeros.
//
// Every expected string is worked out by hand from the exact binary value involved; the comment
// next to each group says how.
#include <array>
#include <limits>
#include <string>

#include "chainrule/engine/engine.hpp"
#include "support/reference.hpp"

using namespace chainrule;
using Catch::Matchers::Contains;

namespace {

std::string zeros(std::size_t n) {
  return std::string(n, '0');
}

std::string format_mp(std::string_view text, unsigned digits, const number_format& f) {
  return scalar_traits<mp_real>::format(scalar_traits<mp_real>::from_decimal(text, digits), f);
}

struct formatted_case {
  const char* text;  // exact in binary, so double and mp_real hold the same number
  number_format format;
  const char* expected;
};

/// The same cases through the double formatter and through MPFR at 50 digits.
void check_cases(const formatted_case* begin, const formatted_case* end) {
  for (const auto* c = begin; c != end; ++c) {
    INFO(c->text << " -> " << c->expected);
    CHECK(format_decimal(parse_double(c->text), c->format) == c->expected);
    CHECK(format_mp(c->text, 50, c->format) == c->expected);
  }
}

const auto even = rounding::half_even;
const auto up = rounding::half_up;
const auto chop = rounding::toward_zero;

}  // namespace

TEST_CASE("decimal input is exact: \"0.05\" prints as 0.05 to every digit", "[decimal][input]") {
  const auto all = [](int n) { return number_format::significant(n, even, false); };

  SECTION("at 50 digits") {
    graph<mp_real> g(50);
    const auto x = g.input("x", "0.05");
    // 50 significant digits of 5e-2 are the digit 5 and 49 zeros, i.e. 51 decimals.
    CHECK(g.format(x.value(), all(50)) == "0.05" + zeros(49));
  }
  SECTION("at 1000 digits") {
    graph<mp_real> g(1000);
    CHECK(g.format(g.input("x", "0.05").value(), all(1000)) == "0.05" + zeros(999));
    CHECK(g.format(g.input("y", "0.1").value(), all(1000)) == "0.1" + zeros(999));
  }
  SECTION("unlike the double nearest 0.05") {
    // That double is 3602879701896397 / 2^56 = 0.05000000000000000277555756156289135105907917022
    // 705078125 (exactly); its 50 significant digits end in ...0227050|78125, rounded up to 51.
    CHECK(format_decimal(0.05, all(50)) == "0.050000000000000002775557561562891351059079170227051");
  }
  SECTION("the double parser rounds correctly, ties to even") {
    // 2^53 + 1 lies halfway between 2^53 and 2^53 + 2: the even mantissa wins (2^53).
    // 2^53 + 3 lies halfway between 2^53 + 2 (odd mantissa) and 2^53 + 4 (even): 2^53 + 4.
    CHECK(parse_double("9007199254740993") == 9007199254740992.0);
    CHECK(parse_double("9007199254740995") == 9007199254740996.0);
    CHECK(parse_double("0.1") == 0.1);
    CHECK(parse_double("+2.5e-3") == 0.0025);
    // Underflow to zero is allowed for double; overflow is not (checked below). The smallest
    // subnormal is 2^-1074 = 4.9406564584124654e-324; half of it, 2.47032822920623272088e-324,
    // is the tie between it and 0.
    CHECK(parse_double("1e-400") == 0.0);
    CHECK(parse_double("2.4703282292062327e-324") == 0.0);
    CHECK(parse_double("2.4703282292062328e-324") == std::numeric_limits<double>::denorm_min());
    // DBL_MAX = (2 - 2^-52) 2^1023 = 1.7976931348623157e308; the tie with 2^1024 (overflow) is
    // 1.797693134862315807937e308.
    CHECK(parse_double("1.7976931348623158e308") == std::numeric_limits<double>::max());
    CHECK_THROWS_WITH(parse_double("1.7976931348623159e308"), Contains("too large for double"));
    CHECK_THROWS_WITH(parse_double("-1e400"), Contains("too large for double"));
  }
}

TEST_CASE("validate_decimal says where the text stops being a number", "[decimal][input]") {
  struct bad_case {
    const char* text;
    std::size_t position;
    const char* message;
  };
  // Positions by hand: the 0-based offset of the first character the grammar
  // [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)? cannot accept.
  const std::array<bad_case, 10> cases{{
      {"", 0, "empty number"},
      {"-", 1, "expected a digit"},
      {".", 1, "expected a digit"},
      {"+.", 2, "expected a digit"},
      {" 1", 0, "expected a digit"},
      {"1e", 2, "expected the digits of an exponent"},
      {"1e+", 3, "expected the digits of an exponent"},
      {"1.2.3", 3, "unexpected '.'"},
      {"0x10", 1, "unexpected 'x'"},
      {"1 ", 1, "unexpected ' '"},
  }};
  for (const auto& c : cases) {
    INFO("text \"" << c.text << "\"");
    try {
      validate_decimal(c.text);
      FAIL("accepted");
    } catch (const decimal_error& e) {
      CHECK(e.position() == c.position);
      CHECK_THAT(e.what(), Contains(c.message));
    }
  }

  SECTION("well-formed numbers pass") {
    for (const char* text : {"0", "-1.5", ".5", "5.", "+2e-3", "1E10", "007", "-0"}) {
      INFO(text);
      CHECK_NOTHROW(validate_decimal(text));
    }
  }
  SECTION("exponents out of range are errors, not infinity or zero") {
    // 10^999999999 needs a binary exponent of about 3.3e9, past MPFR's default 2^30 - 1.
    graph<mp_real> g(50);
    CHECK_THROWS_AS(g.input("x", "1e999999999"), decimal_error);
    CHECK_THROWS_WITH(g.input("y", "1e999999999"), Contains("out of range"));
    CHECK_THROWS_WITH(g.input("z", "1e-999999999"), Contains("out of range"));
    CHECK(g.size() == 0);
    CHECK_THROWS_WITH(parse_double("1e999999999"), Contains("out of range"));
    // 1e999 fits MPFR but not double.
    CHECK_THROWS_WITH(parse_double("1e999"), Contains("too large for double"));
    CHECK(format_mp("1e999", 50, number_format::significant(3)) == "1e+999");
  }
  SECTION("a graph rejects malformed text without adding a node") {
    graph<double> g;
    CHECK_THROWS_AS(g.input("x", "1.2.3"), decimal_error);
    CHECK(g.size() == 0);
  }
}

TEST_CASE("formatter: exact binary ties under each rounding rule", "[decimal][format]") {
  // 0.125, 0.375, 2.5, 3.5 are exact in binary, so each sits exactly on a tie: half_even picks the
  // even last digit, half_up moves away from zero, toward_zero drops the tail.
  const auto d = [](int n, rounding r) { return number_format::decimals(n, r); };
  const auto s = [](int n, rounding r) { return number_format::significant(n, r); };
  const std::array<formatted_case, 27> cases{{
      {"0.125", d(2, even), "0.12"}, {"0.125", d(2, up), "0.13"},
      {"0.125", d(2, chop), "0.12"}, {"0.375", d(2, even), "0.38"},
      {"0.375", d(2, up), "0.38"},   {"0.375", d(2, chop), "0.37"},
      {"2.5", d(0, even), "2"},      {"2.5", d(0, up), "3"},
      {"2.5", d(0, chop), "2"},      {"-2.5", d(0, even), "-2"},
      {"-2.5", d(0, up), "-3"},      {"-2.5", d(0, chop), "-2"},
      {"3.5", d(0, even), "4"},      {"3.5", d(0, up), "4"},
      {"3.5", d(0, chop), "3"},      {"-0.125", d(2, even), "-0.12"},
      {"-0.125", d(2, up), "-0.13"}, {"-0.125", d(2, chop), "-0.12"},
      {"0.125", s(2, even), "0.12"}, {"0.125", s(2, up), "0.13"},
      {"0.125", s(2, chop), "0.12"}, {"2.5", s(1, even), "2"},
      {"2.5", s(1, up), "3"},        {"-2.5", s(1, even), "-2"},
      {"-2.5", s(1, up), "-3"},      {"1.0625", s(4, even), "1.062"},
      {"1.0625", s(4, up), "1.063"},
  }};
  check_cases(cases.data(), cases.data() + cases.size());

  SECTION("a decimal that only looks like a tie is rounded by its binary value") {
    // The double nearest 2.675 is 2.67499999999999982236431605997495353221893310546875: below
    // the tie, so even half_up gives 2.67.
    CHECK(format_decimal(2.675, number_format::decimals(2, up)) == "2.67");
    // At 50 digits "2.675" is within 10^-50 of the tie on one side or the other, so no rule may
    // treat it as exact: half_up and half_even must agree.
    CHECK(format_mp("2.675", 50, number_format::decimals(2, up)) ==
          format_mp("2.675", 50, number_format::decimals(2, even)));
  }
}

TEST_CASE("formatter: carries into a new leading digit", "[decimal][format]") {
  // The double nearest 0.99999999951 is 0.999999999509999959...: more than half a unit of the
  // 9th decimal above 0.999999999, so it rounds up to 1.000000000.
  CHECK(format_decimal(0.99999999951, number_format::decimals(9)) == "1");
  CHECK(format_decimal(0.99999999951, number_format::decimals(9, even, false)) == "1.000000000");
  CHECK(format_mp("0.99999999951", 50, number_format::decimals(9)) == "1");
  // 9.9996 (double: 9.99959999999999915...) to 4 significant digits: 9.999|6 rounds up to 10.000,
  // which has 5 digits; the carry moves the point, giving 4 significant digits "10.00".
  CHECK(format_decimal(9.9996, number_format::significant(4, even, false)) == "10.00");
  CHECK(format_decimal(9.9996, number_format::significant(4)) == "10");
  CHECK(format_decimal(-9.9996, number_format::significant(4, even, false)) == "-10.00");
  CHECK(format_mp("9.9996", 50, number_format::significant(4, even, false)) == "10.00");
  // 999999.5 is exact in binary and a tie; 999999 is odd, so half_even rounds up: 1000000.
  CHECK(format_decimal(999999.5, number_format::decimals(0)) == "1000000");
  CHECK(format_decimal(999999.5, number_format::significant(6)) == "1000000");
  // 0.0099996 to 4 significant digits: 9.9996e-3 -> 10.00e-3 = 0.01000.
  CHECK(format_mp("0.0099996", 50, number_format::significant(4, even, false)) == "0.01000");
}

TEST_CASE("formatter: negative numbers, and never \"-0\"", "[decimal][format]") {
  // Anything that rounds to zero prints without a sign, whatever the rule.
  CHECK(format_decimal(-0.0, number_format::decimals(3)) == "0");
  CHECK(format_decimal(-0.0, number_format::decimals(3, even, false)) == "0.000");
  CHECK(format_decimal(-0.0, number_format::significant(5)) == "0");
  CHECK(format_decimal(-0.0001, number_format::decimals(2, even, false)) == "0.00");
  CHECK(format_decimal(-0.004, number_format::decimals(2, up)) == "0");
  CHECK(format_decimal(-0.9, number_format::decimals(0, chop)) == "0");
  CHECK(format_mp("-0", 50, number_format::significant(5)) == "0");
  CHECK(format_mp("-1e-60", 50, number_format::decimals(9)) == "0");
  // Negative values round by magnitude: the double nearest 0.005 is 0.00500000000000000010408...,
  // above the tie, so -0.005 goes to -0.01 under every rule but truncation.
  CHECK(format_decimal(-0.005, number_format::decimals(2, even)) == "-0.01");
  CHECK(format_decimal(-0.005, number_format::decimals(2, chop)) == "0");
  CHECK(format_decimal(-1.5, number_format::decimals(0, chop)) == "-1");
  CHECK(format_decimal(-1234.5678, number_format::decimals(2)) == "-1234.57");
  CHECK(format_mp("-1234.5678", 50, number_format::significant(6)) == "-1234.57");
}

TEST_CASE("formatter: very small and very large magnitudes", "[decimal][format]") {
  const auto sig = [](int n, bool strip = true) {
    return number_format::significant(n, even, strip);
  };
  SECTION("significant mode switches to scientific outside [1e-6, 1e21)") {
    // The doubles nearest 1e-300 and 1e300 differ from them in the 17th digit, so 5 digits are
    // exactly 1.0000.
    CHECK(format_decimal(1e-300, sig(5)) == "1e-300");
    CHECK(format_decimal(1e-300, sig(5, false)) == "1.0000e-300");
    CHECK(format_decimal(-1e-300, sig(5)) == "-1e-300");
    CHECK(format_decimal(1e300, sig(5)) == "1e+300");
    // The double nearest 1e300 is 1000000000000000052504760255204420248704...: 17 digits are
    // 1.0000000000000000|525 -> ...0001.
    CHECK(format_decimal(1e300, sig(17)) == "1.0000000000000001e+300");
    CHECK(format_decimal(1.5e-6, sig(2)) == "0.0000015");
    CHECK(format_decimal(1.5e-7, sig(2)) == "1.5e-7");
    CHECK(format_decimal(1e20, sig(3)) == "100000000000000000000");
    CHECK(format_decimal(1e21, sig(3)) == "1e+21");
    CHECK(format_mp("1e-300", 50, sig(50, false)) == "1." + zeros(49) + "e-300");
    CHECK(format_mp("-4.5e999999", 50, sig(3)) == "-4.5e+999999");
  }
  SECTION("the switch points can be moved") {
    auto f = sig(3);
    f.min_fixed_exponent = -400;
    CHECK(format_decimal(1e-300, f) == "0." + zeros(299) + "1");
  }
  SECTION("decimals mode prints every digit of a huge double") {
    // int(1e300) in Python: the exact integer value of the double nearest 10^300 (301 digits).
    CHECK(format_decimal(1e300, number_format::decimals(0)) ==
          "100000000000000005250476025520442024870446858110815915491585411551180245798890819578"
          "637137508044786404370444383288387817694252323536043057564479218478670698284838720092"
          "657580373783023379478809005936895323497079994508111903896764088007465274278014249457"
          "9258788820056842838115669472196386865459400540160");
    CHECK(format_decimal(1e-300, number_format::decimals(9)) == "0");
  }
}

TEST_CASE("formatter: trailing zeros stripped or kept", "[decimal][format]") {
  const auto d = [](int n, bool strip) { return number_format::decimals(n, even, strip); };
  const auto s = [](int n, bool strip) { return number_format::significant(n, even, strip); };
  const std::array<formatted_case, 14> cases{{
      {"2.5", d(3, true), "2.5"},
      {"2.5", d(3, false), "2.500"},
      {"100", d(2, true), "100"},  // zeros before the point are never stripped
      {"100", d(2, false), "100.00"},
      {"1200", s(2, true), "1200"},
      {"1200", s(2, false), "1200"},
      {"0.5", s(4, true), "0.5"},
      {"0.5", s(4, false), "0.5000"},
      {"0", d(3, true), "0"},
      {"0", d(3, false), "0.000"},
      {"0", s(3, false), "0.00"},
      {"1.25e-7", s(4, true), "1.25e-7"},
      {"1.25e-7", s(4, false), "1.250e-7"},
      {"-3", d(2, false), "-3.00"},
  }};
  check_cases(cases.data(), cases.data() + cases.size());
}

TEST_CASE("exact_decimal: the whole expansion of a binary value", "[decimal][exact]") {
  // 0.1 as a double is 3602879701896397 / 2^55; multiplying by 10^55 / 10^55 gives the
  // 55-decimal expansion 0.1000000000000000055511151231257827021181583404541015625.
  CHECK(scalar_traits<double>::exact(0.1) ==
        "0.1000000000000000055511151231257827021181583404541015625");
  CHECK(scalar_traits<double>::exact(-0.1) ==
        "-0.1000000000000000055511151231257827021181583404541015625");
  // Powers of two: 2^-10 = 0.0009765625 exactly; 2^60 = 1152921504606846976.
  CHECK(scalar_traits<double>::exact(0.0009765625) == "0.0009765625");
  CHECK(scalar_traits<double>::exact(1152921504606846976.0) == "1152921504606846976");
  CHECK(scalar_traits<double>::exact(0.0) == "0");
  CHECK(scalar_traits<double>::exact(-0.0) == "0");

  SECTION("an mp_real's expansion has every bit, and rounds back to its decimal source") {
    graph<mp_real> g(50);
    const auto x = g.input("x", "0.1");
    const std::string exact = scalar_traits<mp_real>::exact(x.value());
    // 0.1 is not a binary fraction, so at any precision its binary value has a longer expansion;
    // at 50 digits it lies within 10^-51 of 0.1 and rounds back to it (a double does not).
    CHECK(exact != "0.1");
    CHECK(exact.size() > 52);
    CHECK(format_decimal(parse_double("0.1"), number_format::significant(50)) != "0.1");
    CHECK(g.format(x.value(), number_format::significant(50)) == "0.1");
    CHECK(format_decimal(parse_double("0.5"), number_format::decimals(60, even, false)) ==
          "0.5" + zeros(59));
  }
  SECTION("non-finite values print as words") {
    CHECK(format_decimal(std::numeric_limits<double>::infinity(), number_format::decimals(2)) ==
          "inf");
    CHECK(format_decimal(-std::numeric_limits<double>::infinity(), number_format::decimals(2)) ==
          "-inf");
    CHECK(format_decimal(std::numeric_limits<double>::quiet_NaN(), number_format::significant(3)) ==
          "nan");
  }
}

TEST_CASE("formatter: never more significant digits than max_significant", "[decimal][format]") {
  // By hand. 2^100 = 1267650600228229401496703205376 is exact in binary; at 9 decimals it has 40
  // significant digits. With a cap of 10 it is 1.267650600|228... rounded to 10 digits, in
  // scientific notation because its exponent 30 is above 20.
  number_format capped = number_format::decimals(9);
  capped.max_significant = 10;
  CHECK(format_mp("1267650600228229401496703205376", 100, capped) == "1.2676506e+30");
  CHECK(format_mp("1267650600228229401496703205376", 100, number_format::decimals(9)) ==
        "1267650600228229401496703205376");
  // 2^40 = 1099511627776: 13 integer digits and 9 decimals are 22 > 17 digits, so 17
  // significant digits, in fixed notation (exponent 12): every digit, no decimals.
  capped.max_significant = 17;
  CHECK(format_mp("1099511627776", 100, capped) == "1099511627776");
  // 2^40 + 2^-20 = 1099511627776.00000095367431640625: 17 significant digits end at the fourth
  // decimal, 1099511627776.0000|0953... -> 1099511627776 once the zeros are stripped; uncapped at
  // 9 decimals it is 1099511627776.000000954.
  CHECK(format_mp("1099511627776.00000095367431640625", 100, capped) == "1099511627776");
  CHECK(format_mp("1099511627776.00000095367431640625", 100, number_format::decimals(9)) ==
        "1099511627776.000000954");
  // Below the cap nothing changes: 0.5, and 1/1024 = 0.0009765625 at 9 decimals, a tie that
  // half even rounds to 0.000976562.
  CHECK(format_mp("0.5", 100, capped) == "0.5");
  CHECK(format_mp("0.0009765625", 100, capped) == "0.000976562");
  // Significant digits: the smaller of the count and the cap. 1/1024 at 12 digits capped to 5
  // is 0.00097656|25 -> 0.00097656 (half even).
  number_format digits = number_format::significant(12);
  digits.max_significant = 5;
  CHECK(format_mp("0.0009765625", 100, digits) == "0.00097656");
  // Negative numbers keep their sign; zero is zero.
  capped.max_significant = 10;
  CHECK(format_mp("-1267650600228229401496703205376", 100, capped) == "-1.2676506e+30");
  CHECK(format_mp("0", 100, capped) == "0");
}
