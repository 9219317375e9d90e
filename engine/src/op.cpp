// SPDX-License-Identifier: MIT
#include "chainrule/engine/op.hpp"

#include "chainrule/engine/ops.hpp"

namespace chainrule {
namespace {

template <std::size_t... I>
constexpr std::array<op_info, op_count> make_table(std::index_sequence<I...>) {
  return {std::tuple_element_t<I, ops::all>::info...};
}

constexpr std::array<op_info, op_count> table = make_table(std::make_index_sequence<op_count>{});

}  // namespace

const op_info& info(op o) noexcept {
  return table[static_cast<std::size_t>(o)];
}

std::span<const op_info> all_op_infos() noexcept {
  return table;
}

}  // namespace chainrule
