// SPDX-License-Identifier: MIT
// Helpers for the trace tests: reference files, digit-accurate comparison, a minimal text
// rendering of trace expressions (the exporters have their own; this one only has to be obvious).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "chainrule/engine/engine.hpp"
#include "chainrule/trace/document.hpp"

namespace trace_test {

/// `key = value` lines of tests/reference/<file>.
std::map<std::string, std::string> read_reference(const std::string& file);

/// The value of `key` in `ref`; fails the test if it is missing.
std::string ref_value(const std::map<std::string, std::string>& ref, const std::string& key);

/// True when the decimal `actual` agrees with the decimal `expected` to `digits` significant
/// digits (compared at 200 digits, never through double).
bool agrees(std::string_view actual, std::string_view expected, int digits);

/// Plain text of an expression: names for quantities, "dE/dw" for derivatives, symbols' text.
/// With `numbers`, every node that has a value is written as its shown value instead.
std::string render(const chainrule::trace::document& doc, const chainrule::trace::expression& e,
                   bool numbers = false);

/// "dof/dwrt" with names.
std::string render(const chainrule::trace::document& doc, const chainrule::trace::derivative& d);

}  // namespace trace_test
