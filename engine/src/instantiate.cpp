// SPDX-License-Identifier: MIT
// The two number types every chainrule build supports, compiled once here.
#include "chainrule/engine/engine.hpp"

namespace chainrule {
template class graph<double>;
template class graph<mp_real>;
}  // namespace chainrule
