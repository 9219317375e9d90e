// SPDX-License-Identifier: MIT
// Copying a graph into another number type or precision, value for value.
#pragma once

#include <memory>

#include "chainrule/engine/graph.hpp"

namespace chainrule {

/// A new graph<To> with the same nodes, names and symbols as `from`, at `digits` digits.
///
/// A leaf set from decimal text is re-read from that text at the new precision, so the copy
/// computes the same mathematical function more precisely; any other leaf keeps its exact binary
/// value.
template <real_number To, real_number From>
std::unique_ptr<graph<To>> convert_graph(const graph<From>& from, unsigned digits) {
  auto to = std::make_unique<graph<To>>(digits);
  const std::size_t n = from.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto id = static_cast<node_id>(i);
    const op o = from.op_of(id);
    if (is_leaf(o)) {
      const std::string_view source = from.decimal_source(id);
      const std::string text =
          source.empty() ? scalar_traits<From>::exact(from.value(id)) : std::string(source);
      to->leaf(o, from.name(id), text);
    } else {
      to->apply(o, from.inputs(id));
      if (!from.name(id).empty()) to->set_name(id, from.name(id));
    }
    if (!from.symbol(id).empty()) to->set_symbol(id, from.symbol(id));
  }
  return to;
}

}  // namespace chainrule
