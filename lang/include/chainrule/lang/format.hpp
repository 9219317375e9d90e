// SPDX-License-Identifier: MIT
// Printing expressions and checked models back as .chain text.
#pragma once

#include <string>

#include "chainrule/lang/ast.hpp"
#include "chainrule/lang/model.hpp"

namespace chainrule::lang {

/// The expression as .chain source with the fewest parentheses that keep its structure:
/// `w1*i1 + w2*i2 + b1`, `1/2*(t1 - out_o1)^2`, `-x^2`, `softmax(a, b)[1]`. Parsing the text
/// gives a structurally equal tree.
[[nodiscard]] std::string to_source(const expression_arena& arena, expr_id root);

/// The checked model as a scalar .chain file: settings, one declaration per line, symbols, data
/// sets (inline), equations in evaluation order and the directive, all with defaults written
/// out. The text parses and checks to the same model, so it doubles as a readable dump of what
/// vector and layer shorthand expanded to.
[[nodiscard]] std::string to_source(const checked_model& model);

}  // namespace chainrule::lang
