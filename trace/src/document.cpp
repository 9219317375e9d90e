// SPDX-License-Identifier: MIT
#include "chainrule/trace/document.hpp"

namespace chainrule::trace {

std::string_view to_string(quantity_kind kind) noexcept {
  switch (kind) {
    case quantity_kind::input:
      return "input";
    case quantity_kind::target:
      return "target";
    case quantity_kind::parameter:
      return "parameter";
    case quantity_kind::constant:
      return "constant";
    case quantity_kind::computed:
      return "computed";
    case quantity_kind::loss:
      return "loss";
  }
  return "?";
}

std::string_view to_string(layout notation) noexcept {
  switch (notation) {
    case layout::leaf:
      return "leaf";
    case layout::prefix:
      return "prefix";
    case layout::infix:
      return "infix";
    case layout::function:
      return "function";
  }
  return "?";
}

std::string_view to_string(expr_kind kind) noexcept {
  switch (kind) {
    case expr_kind::quantity:
      return "quantity";
    case expr_kind::derivative:
      return "derivative";
    case expr_kind::symbol:
      return "symbol";
    case expr_kind::literal:
      return "literal";
    case expr_kind::apply:
      return "apply";
  }
  return "?";
}

std::string_view to_string(gradient_step::kind combine) noexcept {
  switch (combine) {
    case gradient_step::kind::product:
      return "product";
    case gradient_step::kind::sum:
      return "sum";
  }
  return "?";
}

std::string display_name(const document& doc, quantity_index q) {
  if (q < doc.quantities.size() && !doc.quantities[q].name.empty()) return doc.quantities[q].name;
  return "#" + std::to_string(q);
}

std::string stopping_sentence(const validation_run& v, std::uint64_t steps) {
  const auto plural = [](std::uint64_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  if (v.stopped_early) {
    return "stopped early at update " + std::to_string(steps) + ": no improvement for " +
           plural(v.patience, "validation") + " since update " + std::to_string(v.best_update);
  }
  std::string out = "ran all " + plural(steps, "update");
  if (v.history.empty()) return out + "; no validation fell within them";
  return out + "; the best validation loss was after update " + std::to_string(v.best_update);
}

}  // namespace chainrule::trace
