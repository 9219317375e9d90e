// SPDX-License-Identifier: MIT
// Umbrella header: the whole engine, with double and mp_real (MPFR) ready to use.
#pragma once

#include "chainrule/engine/convert.hpp"
#include "chainrule/engine/decimal.hpp"
#include "chainrule/engine/derive.hpp"
#include "chainrule/engine/errors.hpp"
#include "chainrule/engine/gradient_check.hpp"
#include "chainrule/engine/graph.hpp"
#include "chainrule/engine/mpfr.hpp"
#include "chainrule/engine/op.hpp"
#include "chainrule/engine/scalar.hpp"
#include "chainrule/engine/symbolic.hpp"

namespace chainrule {
// Compiled once in the engine library, so users' builds do not re-instantiate them.
extern template class graph<double>;
extern template class graph<mp_real>;
}  // namespace chainrule
