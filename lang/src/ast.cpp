// SPDX-License-Identifier: MIT
#include "chainrule/lang/ast.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace chainrule::lang {

const char* to_string(expr_kind k) noexcept {
  switch (k) {
    case expr_kind::number:
      return "number";
    case expr_kind::name:
      return "name";
    case expr_kind::negate:
      return "negate";
    case expr_kind::add:
      return "add";
    case expr_kind::subtract:
      return "subtract";
    case expr_kind::multiply:
      return "multiply";
    case expr_kind::divide:
      return "divide";
    case expr_kind::power:
      return "power";
    case expr_kind::matmul:
      return "matmul";
    case expr_kind::call:
      return "call";
    case expr_kind::keyword_argument:
      return "keyword_argument";
    case expr_kind::element:
      return "element";
  }
  return "?";
}

const char* to_string(declaration_kind k) noexcept {
  switch (k) {
    case declaration_kind::input:
      return "input";
    case declaration_kind::target:
      return "target";
    case declaration_kind::param:
      return "param";
    case declaration_kind::constant:
      return "const";
  }
  return "?";
}

expr_id expression_arena::add(expr_kind kind, std::string text, const source_location& where,
                              std::span<const expr_id> children, std::uint32_t index) {
  const auto id = static_cast<expr_id>(nodes_.size());
  for (const expr_id c : children) {
    if (c >= id)
      throw std::logic_error("expression_arena: a child must be added before its parent");
  }
  expr_node node;
  node.kind = kind;
  node.index = index;
  node.text = std::move(text);
  node.line = where.line;
  node.column = where.column;
  node.length = where.length;
  node.first_child = static_cast<std::uint32_t>(child_ids_.size());
  node.child_count = static_cast<std::uint32_t>(children.size());
  child_ids_.insert(child_ids_.end(), children.begin(), children.end());
  nodes_.push_back(std::move(node));
  return id;
}

std::span<const expr_id> expression_arena::children(expr_id id) const {
  const expr_node& n = nodes_[id];
  return std::span<const expr_id>(child_ids_).subspan(n.first_child, n.child_count);
}

source_location expression_arena::location(expr_id id) const {
  const expr_node& n = nodes_[id];
  return source_location{file_, n.line, n.column, n.length};
}

std::vector<expr_id> expression_arena::subtree(expr_id root) const {
  std::vector<expr_id> out;
  std::vector<expr_id> stack{root};
  while (!stack.empty()) {
    const expr_id id = stack.back();
    stack.pop_back();
    out.push_back(id);
    for (const expr_id c : children(id))
      stack.push_back(c);
  }
  // Children have smaller ids than their parents, so ascending order is a post-order.
  std::sort(out.begin(), out.end());
  return out;
}

expr_id expression_arena::copy_subtree(const expression_arena& from, expr_id root) {
  // When copying within one arena, `from` grows while we add; work on a snapshot of the ids.
  const std::vector<expr_id> ids = from.subtree(root);
  std::vector<std::pair<expr_id, expr_id>> mapping;  // old -> new, sorted by old
  mapping.reserve(ids.size());
  std::vector<expr_id> kids;
  for (const expr_id old_id : ids) {
    const expr_node node = from.nodes_[old_id];  // copy: `from` may reallocate below
    kids.clear();
    for (std::uint32_t k = 0; k < node.child_count; ++k) {
      const expr_id old_child = from.child_ids_[node.first_child + k];
      const auto it = std::lower_bound(
          mapping.begin(), mapping.end(), old_child,
          [](const std::pair<expr_id, expr_id>& p, expr_id v) { return p.first < v; });
      kids.push_back(it->second);
    }
    const source_location where{{}, node.line, node.column, node.length};
    mapping.emplace_back(old_id, add(node.kind, node.text, where, kids, node.index));
  }
  return mapping.back().second;
}

bool structurally_equal(const expression_arena& a, expr_id x, const expression_arena& b,
                        expr_id y) {
  std::vector<std::pair<expr_id, expr_id>> stack{{x, y}};
  while (!stack.empty()) {
    const auto [i, j] = stack.back();
    stack.pop_back();
    const expr_node& n = a[i];
    const expr_node& m = b[j];
    if (n.kind != m.kind || n.index != m.index || n.text != m.text ||
        n.child_count != m.child_count) {
      return false;
    }
    const auto ci = a.children(i);
    const auto cj = b.children(j);
    for (std::size_t k = 0; k < ci.size(); ++k)
      stack.emplace_back(ci[k], cj[k]);
  }
  return true;
}

}  // namespace chainrule::lang
