// SPDX-License-Identifier: MIT
// Expansion works bottom-up over a subtree's node ids (children always have smaller ids), so it
// needs no recursion. Each node gets a value: a shape and one scalar expression per element.
// A scalar expression may be wanted by several parents (a broadcast scalar, a matrix-product
// operand); the first use takes it and later uses take a copy, so every equation ends up a tree.
#include "expand.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <initializer_list>
#include <unordered_map>

#include "chainrule/lang/functions.hpp"
#include "decimal.hpp"

namespace chainrule::lang::detail {

std::string element_name(std::string_view base, std::span<const std::uint32_t> indices) {
  std::string name(base);
  for (const auto i : indices) {
    name += '_';
    name += std::to_string(i);
  }
  return name;
}

std::size_t element_count(std::span<const std::size_t> shape) noexcept {
  std::size_t n = 1;
  for (const auto d : shape)
    n *= d;
  return n;
}

std::vector<std::vector<std::uint32_t>> all_indices(std::span<const std::size_t> shape) {
  std::vector<std::vector<std::uint32_t>> out;
  std::vector<std::uint32_t> index(shape.size(), 1);
  const std::size_t n = element_count(shape);
  out.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    out.push_back(index);
    for (std::size_t d = shape.size(); d > 0; --d) {
      if (index[d - 1] < shape[d - 1]) {
        ++index[d - 1];
        break;
      }
      index[d - 1] = 1;
    }
  }
  return out;
}

std::string describe_shape(std::span<const std::size_t> shape) {
  if (shape.empty()) return "a scalar";
  if (shape.size() == 1)
    return fmt::format("a vector of {} element{}", shape[0], shape[0] == 1 ? "" : "s");
  return fmt::format("a {}x{} matrix", shape[0], shape[1]);
}

namespace {

// Matrix products create rows * columns * inner nodes; refuse absurd ones before allocating.
constexpr std::size_t max_product_terms = 10'000'000;

struct value {
  std::vector<std::size_t> shape;
  std::vector<expr_id> elements;
  std::optional<resolved_name> lazy;  // a name whose elements are created only when needed
  expr_id lazy_at = 0;                // the name's node, for the elements' location
};

const char* operator_text(expr_kind k) {
  switch (k) {
    case expr_kind::add:
      return "+";
    case expr_kind::subtract:
      return "-";
    case expr_kind::multiply:
      return "*";
    case expr_kind::divide:
      return "/";
    case expr_kind::power:
      return "^";
    default:
      return "@";
  }
}

class expander {
 public:
  expander(const expression_arena& in, expression_arena& out, const name_resolver& resolve,
           const source_text& src, std::vector<diagnostic>& errors)
      : in_(in), out_(out), resolve_(resolve), src_(src), errors_(errors) {}

  std::optional<expansion> run(expr_id root) {
    const std::vector<expr_id> ids = in_.subtree(root);
    for (const expr_id id : ids) {
      if (!visit(id)) return std::nullopt;
    }
    value& result = values_.at(root);
    materialize(result);
    return expansion{std::move(result.shape), std::move(result.elements)};
  }

 private:
  const expression_arena& in_;
  expression_arena& out_;
  const name_resolver& resolve_;
  const source_text& src_;
  std::vector<diagnostic>& errors_;
  std::unordered_map<expr_id, value> values_;
  std::vector<bool> used_;

  void error(expr_id at, std::string message, std::string expected = {}) {
    errors_.push_back(
        src_.make(severity::error, in_.location(at), std::move(message), std::move(expected)));
  }

  expr_id make(expr_kind kind, std::string text, expr_id at, std::span<const expr_id> children = {},
               std::uint32_t index = 0) {
    return out_.add(kind, std::move(text), in_.location(at), children, index);
  }

  expr_id take(expr_id e) {
    if (used_.size() < out_.size()) used_.resize(out_.size(), false);
    if (used_[e]) return out_.copy_subtree(out_, e);
    used_[e] = true;
    return e;
  }

  void materialize(value& v) {
    if (!v.lazy) return;
    const expr_id at = v.lazy_at;
    const resolved_name& r = *v.lazy;
    for (auto index : all_indices(v.shape)) {
      std::vector<std::uint32_t> full = r.fixed;
      full.insert(full.end(), index.begin(), index.end());
      v.elements.push_back(make(expr_kind::name, element_name(r.base, full), at));
    }
    v.lazy.reset();
  }

  value& child_value(expr_id parent, std::size_t k) {
    value& v = values_.at(in_.children(parent)[k]);
    materialize(v);
    return v;
  }

  bool visit(expr_id id) {
    const expr_node& node = in_[id];
    value v;
    switch (node.kind) {
      case expr_kind::number:
        v.elements.push_back(make(expr_kind::number, node.text, id));
        break;
      case expr_kind::name: {
        auto r = resolve_(node.text, in_.location(id));
        if (!r) return false;
        v.shape.assign(r->shape.begin() + static_cast<std::ptrdiff_t>(r->fixed.size()),
                       r->shape.end());
        v.lazy = std::move(*r);
        v.lazy_at = id;
        break;
      }
      case expr_kind::negate: {
        value& c = child_value(id, 0);
        v.shape = c.shape;
        for (const expr_id e : c.elements) {
          const expr_id kid = take(e);
          v.elements.push_back(make(expr_kind::negate, {}, id, std::span(&kid, 1)));
        }
        break;
      }
      case expr_kind::add:
      case expr_kind::subtract:
      case expr_kind::multiply:
      case expr_kind::divide:
      case expr_kind::power:
        if (!binary(id, node.kind, v)) return false;
        break;
      case expr_kind::matmul:
        if (!matmul(id, v)) return false;
        break;
      case expr_kind::call:
        if (!call(id, v)) return false;
        break;
      case expr_kind::keyword_argument:
        v = std::move(child_value(id, 0));
        break;
      case expr_kind::element:
        if (!element(id, v)) return false;
        break;
    }
    values_[id] = std::move(v);
    return true;
  }

  bool binary(expr_id id, expr_kind kind, value& v) {
    value& a = child_value(id, 0);
    value& b = child_value(id, 1);
    if (a.shape != b.shape && !a.shape.empty() && !b.shape.empty()) {
      error(id,
            fmt::format("shape mismatch in '{}': the left side is {}, the right side is {}",
                        operator_text(kind), describe_shape(a.shape), describe_shape(b.shape)),
            "operands of the same shape, or a scalar with anything");
      return false;
    }
    v.shape = a.shape.empty() ? b.shape : a.shape;
    const std::size_t n = element_count(v.shape);
    for (std::size_t k = 0; k < n; ++k) {
      const expr_id kids[2] = {take(a.elements[a.shape.empty() ? 0 : k]),
                               take(b.elements[b.shape.empty() ? 0 : k])};
      v.elements.push_back(make(kind, {}, id, kids));
    }
    return true;
  }

  bool matmul(expr_id id, value& v) {
    value& a = child_value(id, 0);
    value& b = child_value(id, 1);
    const auto mismatch = [&](std::string why) {
      error(id,
            fmt::format("cannot multiply {} @ {}: {}", describe_shape(a.shape),
                        describe_shape(b.shape), why),
            "matrix @ vector, vector @ vector, vector @ matrix or matrix @ matrix with matching "
            "inner dimensions");
      return false;
    };
    if (a.shape.empty() || b.shape.empty())
      return mismatch("'@' needs vectors or matrices (use '*' for scalars)");
    // View both operands as matrices: a vector on the left is a row, on the right a column.
    const std::size_t rows = a.shape.size() == 2 ? a.shape[0] : 1;
    const std::size_t inner = a.shape.back();
    const std::size_t inner_b = b.shape[0];
    const std::size_t columns = b.shape.size() == 2 ? b.shape[1] : 1;
    if (inner != inner_b) {
      return mismatch(fmt::format("the inner dimensions differ ({} and {})", inner, inner_b));
    }
    if (rows * columns * inner > max_product_terms)
      return mismatch("the product is too large to expand");
    if (a.shape.size() == 2) v.shape.push_back(rows);
    if (b.shape.size() == 2) v.shape.push_back(columns);
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t k = 0; k < columns; ++k) {
        expr_id sum = 0;
        for (std::size_t j = 0; j < inner; ++j) {
          const expr_id factors[2] = {take(a.elements[i * inner + j]),
                                      take(b.elements[j * columns + k])};
          const expr_id product = make(expr_kind::multiply, {}, id, factors);
          if (j == 0) {
            sum = product;
          } else {
            const expr_id terms[2] = {sum, product};
            sum = make(expr_kind::add, {}, id, terms);
          }
        }
        v.elements.push_back(sum);
      }
    }
    return true;
  }

  bool call(expr_id id, value& v) {
    const expr_node& node = in_[id];
    const function_info* f = find_function(node.text);
    if (f == nullptr) return false;
    if (f->shape == function_shape::loss) return loss(id, *f, v);
    const auto kids = in_.children(id);
    if (f->variadic) {
      std::vector<expr_id> flat;
      for (std::size_t k = 0; k < kids.size(); ++k) {
        for (const expr_id e : child_value(id, k).elements)
          flat.push_back(e);
      }
      if (f->shape == function_shape::reduction) {
        for (auto& e : flat)
          e = take(e);
        v.elements.push_back(make(expr_kind::call, node.text, id, flat));
        return true;
      }
      v.shape = {flat.size()};
      std::vector<expr_id> args(flat.size());
      for (std::size_t k = 0; k < flat.size(); ++k) {
        for (std::size_t a = 0; a < flat.size(); ++a)
          args[a] = take(flat[a]);
        const expr_id whole = make(expr_kind::call, node.text, id, args);
        v.elements.push_back(make(expr_kind::element, {}, id, std::span(&whole, 1),
                                  static_cast<std::uint32_t>(k + 1)));
      }
      return true;
    }
    // Put every argument in its parameter's slot; missing ones get their default.
    std::vector<std::optional<std::size_t>> slots(f->parameters.size());
    std::size_t positional = 0;
    for (std::size_t k = 0; k < kids.size(); ++k) {
      const expr_node& arg = in_[kids[k]];
      if (arg.kind == expr_kind::keyword_argument) {
        for (std::size_t p = 0; p < f->parameters.size(); ++p) {
          if (f->parameters[p].name == arg.text) slots[p] = k;
        }
      } else if (positional < slots.size()) {
        slots[positional++] = k;
      }
    }
    std::vector<std::size_t> shape;
    for (std::size_t p = 0; p < slots.size(); ++p) {
      if (!slots[p]) {
        if (f->parameters[p].default_value.empty()) return false;
        continue;
      }
      const auto& s = child_value(id, *slots[p]).shape;
      if (s.empty()) continue;
      if (!shape.empty() && s != shape) {
        error(id,
              fmt::format("shape mismatch in the arguments of {}: {} and {}", f->name,
                          describe_shape(shape), describe_shape(s)),
              "arguments of the same shape, or scalars");
        return false;
      }
      shape = s;
    }
    v.shape = shape;
    const std::size_t n = element_count(shape);
    std::vector<expr_id> args(slots.size());
    for (std::size_t k = 0; k < n; ++k) {
      for (std::size_t p = 0; p < slots.size(); ++p) {
        if (!slots[p]) {
          args[p] = make(expr_kind::number, std::string(f->parameters[p].default_value), id);
          continue;
        }
        const value& a = child_value(id, *slots[p]);
        args[p] = take(a.elements[a.shape.empty() ? 0 : k]);
      }
      v.elements.push_back(make(expr_kind::call, node.text, id, args));
    }
    return true;
  }

  // Losses and penalties become ordinary formulas: one term per element pair, summed with
  // sum(...) (a single term stands alone), then scaled as docs/language.md shows.
  bool loss(expr_id id, const function_info& f, value& v) {
    const auto kids = in_.children(id);
    const std::string_view name = f.name;
    const auto number = [&](std::string text) {
      return make(expr_kind::number, std::move(text), id);
    };
    const auto node = [&](expr_kind kind, std::initializer_list<expr_id> children) {
      return make(kind, {}, id, std::span<const expr_id>(children.begin(), children.size()));
    };
    const auto apply = [&](std::string function, std::initializer_list<expr_id> children) {
      return make(expr_kind::call, std::move(function), id,
                  std::span<const expr_id>(children.begin(), children.size()));
    };
    const auto total = [&](const std::vector<expr_id>& terms) {
      return terms.size() == 1 ? terms.front() : make(expr_kind::call, "sum", id, terms);
    };
    std::vector<expr_id> terms;
    if (f.variadic) {  // l1, l2: every element of every argument
      for (std::size_t k = 0; k < kids.size(); ++k) {
        for (const expr_id e : child_value(id, k).elements) {
          const expr_id w = take(e);
          terms.push_back(name == "l1" ? apply("abs", {w})
                                       : node(expr_kind::power, {w, number("2")}));
        }
      }
      v.elements.push_back(total(terms));
      return true;
    }
    const value& a = child_value(id, 0);
    const value& b = child_value(id, 1);
    const std::size_t n = element_count(b.shape);
    if (name == "sparse_cce") {
      const expr_node& k = in_[kids[0]];
      const auto index =
          k.kind == expr_kind::number ? integer_value(k.text) : std::optional<std::int64_t>{};
      if (!index || *index < 1 || static_cast<std::uint64_t>(*index) > n) {
        error(kids[0],
              fmt::format("sparse_cce's k must be a whole number from 1 to {} (p is {})", n,
                          describe_shape(b.shape)),
              "the 1-based index of the true class, an integer literal");
        return false;
      }
      const expr_id p = take(b.elements[static_cast<std::size_t>(*index - 1)]);
      v.elements.push_back(node(expr_kind::negate, {apply("log", {p})}));
      return true;
    }
    if (a.shape != b.shape) {
      const std::string_view first = f.parameters[0].name;
      const std::string_view second = f.parameters[1].name;
      error(id,
            fmt::format("shape mismatch in the arguments of {}: {} is {}, {} is {}", name, first,
                        describe_shape(a.shape), second, describe_shape(b.shape)),
            fmt::format("{} and {} of the same shape (two scalars, or two vectors of the same "
                        "length)",
                        first, second));
      return false;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const expr_id t = take(a.elements[i]);
      const expr_id y = take(b.elements[i]);
      if (name == "se" || name == "mse") {
        terms.push_back(node(expr_kind::power, {node(expr_kind::subtract, {t, y}), number("2")}));
      } else if (name == "half_se") {
        const expr_id half = node(expr_kind::divide, {number("1"), number("2")});
        terms.push_back(
            node(expr_kind::multiply,
                 {half, node(expr_kind::power, {node(expr_kind::subtract, {t, y}), number("2")})}));
      } else if (name == "mae") {
        terms.push_back(apply("abs", {node(expr_kind::subtract, {t, y})}));
      } else if (name == "mape") {
        const expr_id t_again = take(a.elements[i]);
        terms.push_back(
            apply("abs", {node(expr_kind::divide, {node(expr_kind::subtract, {t, y}), t_again})}));
      } else if (name == "bce") {
        const expr_id t_again = take(a.elements[i]);
        const expr_id y_again = take(b.elements[i]);
        terms.push_back(
            node(expr_kind::add,
                 {node(expr_kind::multiply, {t, apply("log", {y})}),
                  node(expr_kind::multiply,
                       {node(expr_kind::subtract, {number("1"), t_again}),
                        apply("log", {node(expr_kind::subtract, {number("1"), y_again})})})}));
      } else if (name == "cce") {
        terms.push_back(node(expr_kind::multiply, {t, apply("log", {y})}));
      } else {  // hinge
        terms.push_back(apply(
            "max", {number("0"),
                    node(expr_kind::subtract, {number("1"), node(expr_kind::multiply, {t, y})})}));
      }
    }
    const expr_id sum = total(terms);
    const std::string count = std::to_string(n);
    expr_id result = sum;
    if (name == "mse" || name == "mae" || name == "hinge") {
      if (n > 1)
        result =
            node(expr_kind::multiply, {node(expr_kind::divide, {number("1"), number(count)}), sum});
    } else if (name == "mape") {
      const expr_id scale =
          n > 1 ? node(expr_kind::divide, {number("100"), number(count)}) : number("100");
      result = node(expr_kind::multiply, {scale, sum});
    } else if (name == "bce") {
      result = n > 1 ? node(expr_kind::multiply,
                            {node(expr_kind::divide,
                                  {node(expr_kind::negate, {number("1")}), number(count)}),
                             sum})
                     : node(expr_kind::negate, {sum});
    } else if (name == "cce") {
      result = node(expr_kind::negate, {sum});
    }
    v.elements.push_back(result);
    return true;
  }

  bool element(expr_id id, value& v) {
    const expr_node& node = in_[id];
    const expr_id child = in_.children(id)[0];
    value& c = values_.at(child);
    const auto what = [&]() -> std::string {
      if (c.lazy) return fmt::format("'{}'", element_name(c.lazy->base, c.lazy->fixed));
      return "the expression";
    };
    if (c.shape.empty()) {
      error(id, fmt::format("cannot index {}: it is a scalar", what()));
      return false;
    }
    if (node.index > c.shape[0]) {
      error(id,
            fmt::format("index {} is out of range: {} is {}", node.index, what(),
                        describe_shape(c.shape)),
            fmt::format("an index from 1 to {}", c.shape[0]));
      return false;
    }
    v.shape.assign(c.shape.begin() + 1, c.shape.end());
    if (c.lazy) {
      v.lazy = c.lazy;
      v.lazy_at = c.lazy_at;
      v.lazy->fixed.push_back(node.index);
      return true;
    }
    const std::size_t stride = element_count(v.shape);
    for (std::size_t k = 0; k < stride; ++k) {
      v.elements.push_back(take(c.elements[(node.index - 1) * stride + k]));
    }
    return true;
  }
};

}  // namespace

std::optional<expansion> expand(const expression_arena& in, expr_id root, expression_arena& out,
                                const name_resolver& resolve, const source_text& src,
                                std::vector<diagnostic>& errors) {
  return expander(in, out, resolve, src, errors).run(root);
}

}  // namespace chainrule::lang::detail
