// SPDX-License-Identifier: MIT
#include "chainrule/lang/format.hpp"

#include <fmt/format.h>

#include <variant>

namespace chainrule::lang {
namespace {

// Binding strength; higher binds tighter.
int precedence(expr_kind k) noexcept {
  switch (k) {
    case expr_kind::add:
    case expr_kind::subtract:
      return 1;
    case expr_kind::multiply:
    case expr_kind::divide:
    case expr_kind::matmul:
      return 2;
    case expr_kind::negate:
      return 3;
    case expr_kind::power:
      return 4;
    default:
      return 5;
  }
}

const char* binary_text(expr_kind k) noexcept {
  switch (k) {
    case expr_kind::add:
      return " + ";
    case expr_kind::subtract:
      return " - ";
    case expr_kind::multiply:
      return "*";
    case expr_kind::divide:
      return "/";
    case expr_kind::matmul:
      return " @ ";
    default:
      return "^";
  }
}

// Work items of the iterative printer: a node to print (maybe in parentheses) or literal text.
struct item {
  expr_id node = 0;
  bool parens = false;
  const char* text = nullptr;
  std::string owned;
};

}  // namespace

std::string to_source(const expression_arena& arena, expr_id root) {
  std::string out;
  std::vector<item> stack;
  stack.push_back(item{root, false, nullptr, {}});
  const auto push_text = [&](const char* t) { stack.push_back(item{0, false, t, {}}); };
  while (!stack.empty()) {
    item it = std::move(stack.back());
    stack.pop_back();
    if (it.text != nullptr) {
      out += it.text;
      continue;
    }
    if (!it.owned.empty()) {
      out += it.owned;
      continue;
    }
    const expr_node& n = arena[it.node];
    const auto kids = arena.children(it.node);
    if (it.parens) {
      push_text(")");
      out += '(';
    }
    const int p = precedence(n.kind);
    switch (n.kind) {
      case expr_kind::number:
      case expr_kind::name:
        out += n.text;
        break;
      case expr_kind::negate: {
        // Nested signs print as -(-x) for readability; they would parse back either way.
        const int child = precedence(arena[kids[0]].kind);
        stack.push_back(item{kids[0], child <= p, nullptr, {}});
        out += '-';
        break;
      }
      case expr_kind::add:
      case expr_kind::subtract:
      case expr_kind::multiply:
      case expr_kind::divide:
      case expr_kind::matmul: {
        const int left = precedence(arena[kids[0]].kind);
        const int right = precedence(arena[kids[1]].kind);
        // Operators are left-associative: the right operand needs parentheses at equal strength.
        // A negated right operand prints as `a - -b`, which the grammar accepts.
        stack.push_back(
            item{kids[1], right <= p && arena[kids[1]].kind != expr_kind::negate, nullptr, {}});
        push_text(binary_text(n.kind));
        stack.push_back(item{kids[0], left < p, nullptr, {}});
        break;
      }
      case expr_kind::power: {
        const auto base = arena[kids[0]].kind;
        const auto exponent = arena[kids[1]].kind;
        // Right-associative, and an exponent may carry its own sign (2^-x).
        stack.push_back(item{kids[1], precedence(exponent) < 3, nullptr, {}});
        push_text("^");
        stack.push_back(item{kids[0], precedence(base) <= p, nullptr, {}});
        break;
      }
      case expr_kind::call:
        out += n.text;
        out += '(';
        push_text(")");
        for (std::size_t k = kids.size(); k > 0; --k) {
          stack.push_back(item{kids[k - 1], false, nullptr, {}});
          if (k > 1) push_text(", ");
        }
        break;
      case expr_kind::keyword_argument:
        out += n.text;
        out += " = ";
        stack.push_back(item{kids[0], false, nullptr, {}});
        break;
      case expr_kind::element:
        stack.push_back(item{0, false, nullptr, fmt::format("[{}]", n.index)});
        stack.push_back(item{kids[0], precedence(arena[kids[0]].kind) < 5, nullptr, {}});
        break;
    }
  }
  return out;
}

namespace {

const char* separator(std::size_t k) {
  return k == 0 ? "" : ", ";
}

std::string trace_text(const trace_setting& t) {
  std::vector<std::string> items;
  if (t.all) items.emplace_back("all");
  if (t.first) items.emplace_back("first");
  if (t.last) items.emplace_back("last");
  if (t.every != 0) items.push_back(fmt::format("every {}", t.every));
  for (const auto s : t.steps)
    items.push_back(std::to_string(s));
  if (items.empty()) return "none";
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  return out;
}

}  // namespace

std::string to_source(const checked_model& m) {
  std::string out = fmt::format("# {} (checked, scalar form)\n", m.file_name);
  if (m.precision.binary_double) {
    out += "precision double\n";
  } else {
    out += fmt::format("precision {}\n", m.precision.digits);
  }
  out += fmt::format("display {} {} rounding {}{}\n", m.display.count,
                     m.display.unit == display_unit::digits ? "digits" : "decimals",
                     m.display.rounding == rounding_mode::half_up ? "half-up" : "half-even",
                     m.display.keep_zeros ? " keep zeros" : "");
  out += '\n';
  for (const auto& d : m.declarations) {
    out += fmt::format("{:<6} {} = {}\n", to_string(d.kind), d.name, d.value);
  }
  if (!m.symbols.empty()) out += '\n';
  for (const auto& [name, latex] : m.symbols)
    out += fmt::format("symbol {} = \"{}\"\n", name, latex);
  for (const auto& d : m.data_sets) {
    out += fmt::format("\ndata {}(", d.name);
    for (std::size_t c = 0; c < d.columns.size(); ++c) {
      if (c > 0) out += ", ";
      out += d.columns[c];
    }
    out += ") = [\n";
    for (std::size_t r = 0; r < d.rows(); ++r) {
      out += "  [";
      for (std::size_t c = 0; c < d.columns.size(); ++c) {
        if (c > 0) out += ", ";
        out += d.value(r, c);
      }
      out += "],\n";
    }
    out += "]\n";
  }
  out += '\n';
  for (const auto& e : m.equations) {
    out += fmt::format("{} = {}\n", e.name, to_source(m.expressions, e.value));
  }
  out += '\n';
  if (m.train) {
    const auto& t = *m.train;
    out += fmt::format("train minimize {} using {}(", t.objective, t.optimizer.name);
    for (std::size_t k = 0; k < t.optimizer.arguments.size(); ++k) {
      out += fmt::format("{}{} = {}", separator(k), t.optimizer.arguments[k].name,
                         t.optimizer.arguments[k].value);
    }
    out += fmt::format(") for {} {}", t.count,
                       t.unit == step_unit::epochs ? (t.count == 1 ? "epoch" : "epochs")
                                                   : (t.count == 1 ? "step" : "steps"));
    if (t.data_set) out += " on " + *t.data_set;
    if (t.validation) {
      const validation_setting& v = *t.validation;
      out += " validate on " + v.data_set;
      if (v.every_count != 0) {
        out += fmt::format(" every {} {}", v.every_count,
                           v.every_unit == step_unit::epochs ? "epochs" : "steps");
      }
      if (v.patience != 0) out += fmt::format(" patience {}", v.patience);
      if (v.restore_best) out += " restore best";
    }
    out += fmt::format(" order {} trace {}\n",
                       t.order == update_order::sequential ? "sequential" : "simultaneous",
                       trace_text(t.trace));
  } else if (m.differentiate) {
    out += fmt::format("differentiate {}\n", m.differentiate->objective);
  }
  return out;
}

}  // namespace chainrule::lang
