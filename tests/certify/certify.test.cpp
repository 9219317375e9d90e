// SPDX-License-Identifier: MIT
// Certified digits: each model here makes double precision show wrong digits, and --certify must
// show the right ones (or fewer, marked), never wrong ones. Expected values come from
// tests/certify/certify.ref (mpmath at 80 digits, make_certify_references.py) or closed forms.
#include <mpfr.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "certify.hpp"
#include "chainrule/engine/decimal.hpp"
#include "pipeline.hpp"

namespace {

using chainrule::cli::number_settings;
using chainrule::cli::run_model;
namespace trace = chainrule::trace;

const std::map<std::string, std::string>& references() {
  static const std::map<std::string, std::string> values = [] {
    std::map<std::string, std::string> out;
    std::ifstream in(std::string(CHAINRULE_CERTIFY_DIR) + "/certify.ref");
    REQUIRE(in);
    std::string key, value;
    while (in >> key >> value)
      out[key] = value;
    return out;
  }();
  return values;
}

// The mpmath value of `key` rounded as the document's display setting says (half-even).
std::string expected(const std::string& key, const trace::display_format& display) {
  const auto found = references().find(key);
  REQUIRE(found != references().end());
  mpfr_t x;
  mpfr_init2(x, 400);
  chainrule::parse_mpfr(x, found->second);
  const auto format = display.significant ? chainrule::number_format::significant(display.count)
                                          : chainrule::number_format::decimals(display.count);
  std::string text = chainrule::format_decimal(x, format);
  mpfr_clear(x);
  return text;
}

std::filesystem::path model(const std::string& name) {
  return std::filesystem::path(CHAINRULE_CERTIFY_DIR) / "data" / name;
}

trace::document run(const std::string& name, bool certify) {
  number_settings numbers;
  if (certify) numbers.certify_max_digits = 1000;
  return run_model(model(name), numbers, std::nullopt).document;
}

std::size_t index_of(const trace::document& doc, const std::string& name) {
  for (std::size_t q = 0; q < doc.quantities.size(); ++q) {
    if (doc.quantities[q].name == name) return q;
  }
  FAIL("no quantity " << name);
  return 0;
}

// True when `shown` is `digits` followed by "…" and those digits begin the decimal expansion
// `value` (both without exponent): a marked number that says only what is true.
bool honest_prefix(const std::string& shown, const std::string& value) {
  const std::string ellipsis = "\xE2\x80\xA6";
  if (!shown.ends_with(ellipsis)) return false;
  const std::string digits = shown.substr(0, shown.size() - ellipsis.size());
  return value.starts_with(digits);
}

}  // namespace

TEST_CASE("certify: catastrophic cancellation", "[certify]") {
  // E = (x + a)^2 - x^2 - 2ax = a^2 = 0.01 and dE/da = 2a = 0.2 exactly (x = 1e8, a = 0.1).
  const trace::document plain = run("cancellation.chain", false);
  const trace::document certified = run("cancellation.chain", true);
  const auto& display = certified.config.display;
  const std::size_t a = index_of(certified, "a");

  // Double precision loses every digit of the result: (1e8 + 0.1)^2 is 1e16 + ..., and a double
  // keeps 16 of its 17 digits.
  CHECK(plain.iterations.at(0).forward.loss.shown != "0.01");
  CHECK(plain.iterations.at(0).gradients.at(a).shown != "0.2");

  CHECK(certified.iterations.at(0).forward.loss.shown == "0.01");
  CHECK(expected("cancellation.E", display) == "0.01");
  CHECK(certified.iterations.at(0).gradients.at(a).shown ==
        expected("cancellation.dE_da", display));
  CHECK_FALSE(certified.config.certification.empty());
  CHECK(certified.config.certification.find("double precision alone shows") != std::string::npos);
}

TEST_CASE("certify: a sigmoid saturated near 1", "[certify]") {
  // 1 - sigmoid(40) = 4.2483542552915890e-18, but sigmoid(40) rounds to 1 in double.
  const trace::document plain = run("saturated.chain", false);
  const trace::document certified = run("saturated.chain", true);
  const auto& display = certified.config.display;
  const std::size_t z = index_of(certified, "z");
  const std::size_t out = index_of(certified, "out");

  CHECK(plain.iterations.at(0).forward.loss.shown == "0");
  CHECK(certified.iterations.at(0).forward.loss.shown == expected("saturated.E", display));
  CHECK(certified.iterations.at(0).forward.loss.shown == "4.24835426e-18");
  CHECK(certified.iterations.at(0).gradients.at(z).shown == expected("saturated.dE_dz", display));
  CHECK(certified.iterations.at(0).forward.values.at(out).shown ==
        expected("saturated.out", display));
}

TEST_CASE("certify: 10,000 steps of accumulated rounding", "[certify][slow]") {
  const trace::document plain = run("accumulated.chain", false);
  const trace::document certified = run("accumulated.chain", true);
  const auto& display = certified.config.display;
  REQUIRE(certified.loss_history.size() == 10001);
  REQUIRE(plain.loss_history.size() == 10001);

  // The last update's gradient for w_2, -3.4536271091266e-7: double's 10,000 steps end two units
  // off in the 12th significant digit.
  const std::size_t w2 = index_of(certified, "w_2");
  std::size_t j = 0;
  while (j < certified.parameters.size() && certified.parameters[j] != w2)
    ++j;
  REQUIRE(j < certified.parameters.size());
  const std::string right = expected("accumulated.last_gradient.2", display);
  REQUIRE(plain.iterations.back().batch.has_value());
  REQUIRE(certified.iterations.back().batch.has_value());
  CHECK(plain.iterations.back().batch->gradients.at(j).shown != right);
  CHECK(certified.iterations.back().batch->gradients.at(j).shown == right);

  for (int i = 1; i <= 3; ++i) {
    const std::size_t w = index_of(certified, "w_" + std::to_string(i));
    CHECK(certified.final_state.values.at(w).shown ==
          expected("accumulated.final_w." + std::to_string(i), display));
  }
  for (std::size_t k = 0; k <= 10000; k += 25) {
    INFO("loss history entry " << k);
    CHECK(certified.loss_history[k].loss.shown ==
          expected("accumulated.loss." + std::to_string(k), display));
  }
  // What the plain double run shows wrong, the certification report counts.
  const auto wrong = chainrule::cli::shown_differences(certified, plain);
  CHECK(wrong.uncertified > 0);
}

TEST_CASE("certify: an exact tie is marked, not guessed", "[certify]") {
  // 0.05 + 0.1 = 0.15 and 0.05 + 1.1 = 1.15 exactly: to one decimal, half-even, 0.2 and 1.2. In
  // binary neither sum is exact, so no run at any precision can tell on which side of the tie the
  // true value is; each run rounds its own approximation. Certification must not print a digit
  // that could be wrong: the right rounding, or the digits that are sure, followed by "…".
  const trace::document certified = run("tie.chain", true);
  const std::size_t p = index_of(certified, "p");
  const std::size_t q = index_of(certified, "q");
  const std::string& p_shown = certified.iterations.at(0).forward.values.at(p).shown;
  const std::string& q_shown = certified.iterations.at(0).forward.values.at(q).shown;
  CHECK((p_shown == "0.2" || honest_prefix(p_shown, "0.15")));
  CHECK((q_shown == "1.2" || honest_prefix(q_shown, "1.15")));
  // E = 1.3 exactly is no tie: it is certified.
  CHECK(certified.iterations.at(0).forward.loss.shown == "1.3");
  CHECK(certified.config.certification.find("ellipsis") != std::string::npos);
}

TEST_CASE("certify: a model already right at its precision is unchanged", "[certify]") {
  const std::filesystem::path mazur =
      std::filesystem::path(CHAINRULE_SOURCE_DIR) / "examples" / "mazur.chain";
  number_settings numbers;
  const trace::document plain = run_model(mazur, numbers, std::nullopt).document;
  numbers.certify_max_digits = 1000;
  const auto certified = run_model(mazur, numbers, std::nullopt);
  const auto differences = chainrule::cli::shown_differences(certified.document, plain);
  CHECK(differences.same_shape);
  CHECK(differences.numbers > 100);
  CHECK(differences.uncertified == 0);
  CHECK(certified.document.config.certification ==
        "every number shown agrees between runs at 50 significant digits and 100 significant "
        "digits");
  REQUIRE_FALSE(certified.certify_report.empty());
}

TEST_CASE("certify: the limit must be above the model's precision", "[certify]") {
  number_settings numbers;
  numbers.certify_max_digits = 40;
  numbers.precision = "50";
  CHECK_THROWS_AS(run_model(model("saturated.chain"), numbers, std::nullopt),
                  chainrule::cli::settings_error);
}

TEST_CASE("certify: the digits two runs share", "[certify]") {
  using chainrule::cli::shared_digits;
  trace::display_format decimals;
  decimals.count = 2;
  trace::display_format significant;
  significant.significant = true;
  significant.count = 3;
  const std::string ellipsis = "\xE2\x80\xA6";
  CHECK(shared_digits("0.125", "0.12499999", decimals) == "0.12" + ellipsis);
  CHECK(shared_digits("0.12500001", "0.12500002", decimals) == "0.12" + ellipsis);
  CHECK(shared_digits("0.19999", "0.20001", decimals) == "0" + ellipsis);
  CHECK(shared_digits("-0.5", "0.5", decimals) == ellipsis);
  CHECK(shared_digits("1.23456e-12", "1.23457e-12", significant) == "1.23" + ellipsis + "e-12");
  CHECK(shared_digits("1.5e-12", "1.4999e-12", significant) == "1" + ellipsis + "e-12");
  CHECK(shared_digits("1e-5", "9.9e-6", significant) == ellipsis);
  CHECK(shared_digits("0.000123456", "0.000123457", significant) == "0.000123" + ellipsis);
  decimals.count = 0;
  CHECK(shared_digits("12.5", "12.4999", decimals) == "12" + ellipsis);
}

TEST_CASE("certify: a tie computed exactly is certified", "[certify]") {
  // 0.5 * 0.25 = 0.125 is exact in binary at every precision; half-even to two decimals: 0.12.
  const trace::document certified = run("exact_tie.chain", true);
  CHECK(certified.iterations.at(0).forward.loss.shown == "0.12");
  CHECK(certified.config.certification ==
        "every number shown agrees between runs at double precision and 34 significant digits");
}

TEST_CASE("certify: a shown derivative is certified like every other number", "[certify]") {
  // d(f)/d(w) = x = 0.05 exactly, a tie at one decimal: half-even gives 0 ("0.0"). In binary
  // 0.05 is not exact, so the certified output may only say "0" or the sure digits "0.0…".
  const trace::document certified = run("tie_show.chain", true);
  REQUIRE(certified.derivatives.size() == 1);
  const std::string& shown = certified.derivatives[0].value.shown;
  INFO(shown);
  CHECK((shown == "0" || honest_prefix(shown, "0.05")));
}
