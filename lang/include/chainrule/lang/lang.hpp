// SPDX-License-Identifier: MIT
// Umbrella header: the whole .chain front end (parse, check, format, lower).
#pragma once

#include "chainrule/lang/ast.hpp"
#include "chainrule/lang/diagnostics.hpp"
#include "chainrule/lang/dropout.hpp"
#include "chainrule/lang/format.hpp"
#include "chainrule/lang/functions.hpp"
#include "chainrule/lang/lower.hpp"
#include "chainrule/lang/model.hpp"
#include "chainrule/lang/parser.hpp"
