// SPDX-License-Identifier: MIT
// Helpers shared by the language tests.
#pragma once

#include <catch2/catch.hpp>
#include <chainrule/lang/format.hpp>
#include <chainrule/lang/model.hpp>
#include <chainrule/lang/parser.hpp>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace chainrule::lang::testing {

inline std::filesystem::path example_path(std::string_view name) {
  return std::filesystem::path(CHAINRULE_SOURCE_DIR) / "examples" / name;
}

inline checked_model check_text(std::string_view text, std::string file = "test.chain") {
  return check(parse(text, std::move(file)));
}

/// The diagnostics of a model that must fail (parse or check); fails the test if it does not.
inline std::vector<diagnostic> diagnostics_of(std::string_view text,
                                              std::string file = "test.chain") {
  try {
    (void)check(parse(text, std::move(file)));
  } catch (const model_error& e) {
    return e.diagnostics();
  }
  FAIL("expected a model_error for:\n" << text);
  return {};
}

inline std::vector<diagnostic> errors_of(std::string_view text, std::string file = "test.chain") {
  std::vector<diagnostic> out;
  for (auto& d : diagnostics_of(text, std::move(file))) {
    if (d.severity == severity::error) out.push_back(std::move(d));
  }
  return out;
}

/// "line:column: message" for compact comparisons.
inline std::string brief(const diagnostic& d) {
  return std::to_string(d.location.line) + ":" + std::to_string(d.location.column) + ": " +
         d.message;
}

inline std::vector<std::string> briefs(const std::vector<diagnostic>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds)
    out.push_back(brief(d));
  return out;
}

/// Both models declare the same scalars and compute the same equations, in the same order
/// (locations, groups and indices are allowed to differ).
inline void require_same_scalars(const checked_model& a, const checked_model& b) {
  REQUIRE(a.declarations.size() == b.declarations.size());
  for (std::size_t i = 0; i < a.declarations.size(); ++i) {
    INFO("declaration " << i);
    CHECK(a.declarations[i].kind == b.declarations[i].kind);
    CHECK(a.declarations[i].name == b.declarations[i].name);
    CHECK(a.declarations[i].value == b.declarations[i].value);
  }
  REQUIRE(a.equations.size() == b.equations.size());
  for (std::size_t i = 0; i < a.equations.size(); ++i) {
    INFO("equation " << a.equations[i].name << " = "
                     << to_source(a.expressions, a.equations[i].value) << "  vs  "
                     << b.equations[i].name << " = "
                     << to_source(b.expressions, b.equations[i].value));
    CHECK(a.equations[i].name == b.equations[i].name);
    CHECK(structurally_equal(a.expressions, a.equations[i].value, b.expressions,
                             b.equations[i].value));
  }
}

}  // namespace chainrule::lang::testing
