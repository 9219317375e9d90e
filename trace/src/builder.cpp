// SPDX-License-Identifier: MIT
#include "builder.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <unordered_set>
#include <utility>

namespace chainrule::trace::detail {

std::uint32_t expression_builder::push(expr_node node, std::int64_t source) {
  nodes_.push_back(std::move(node));
  sources_.push_back(source);
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

std::uint32_t expression_builder::quantity(quantity_index q) {
  expr_node n;
  n.kind = expr_kind::quantity;
  n.quantity = q;
  return push(std::move(n), static_cast<std::int64_t>(q));
}

std::uint32_t expression_builder::literal(std::string text, std::int64_t source) {
  expr_node n;
  n.kind = expr_kind::literal;
  n.text = std::move(text);
  return push(std::move(n), source);
}

std::uint32_t expression_builder::symbol(std::string text, std::string latex, number value) {
  expr_node n;
  n.kind = expr_kind::symbol;
  n.text = std::move(text);
  n.latex = std::move(latex);
  n.value = std::move(value);
  return push(std::move(n), no_source);
}

std::uint32_t expression_builder::derivative(quantity_index of, quantity_index wrt, number value) {
  expr_node n;
  n.kind = expr_kind::derivative;
  n.of = of;
  n.quantity = wrt;
  n.value = std::move(value);
  return push(std::move(n), no_source);
}

static layout to_layout(notation n) {
  switch (n) {
    case notation::leaf:
      return layout::leaf;
    case notation::prefix:
      return layout::prefix;
    case notation::infix:
      return layout::infix;
    case notation::function:
      return layout::function;
  }
  return layout::function;
}

std::uint32_t expression_builder::apply(op o, std::vector<std::uint32_t> args,
                                        std::int64_t source) {
  const op_info& meta = info(o);
  expr_node n;
  n.kind = expr_kind::apply;
  n.op = std::string(meta.name);
  n.text = std::string(meta.text);
  n.latex = std::string(meta.latex);
  n.notation = to_layout(meta.layout);
  n.precedence = static_cast<int>(meta.binding);
  n.args = std::move(args);
  return push(std::move(n), source);
}

std::uint32_t expression_builder::apply_template(std::string name, std::string text,
                                                 std::string latex, layout notation, int precedence,
                                                 std::vector<std::uint32_t> args,
                                                 std::optional<std::uint32_t> self,
                                                 std::optional<std::uint32_t> selected) {
  expr_node n;
  n.kind = expr_kind::apply;
  n.op = std::move(name);
  n.text = std::move(text);
  n.latex = std::move(latex);
  n.notation = notation;
  n.precedence = precedence;
  n.args = std::move(args);
  n.self = self;
  n.selected = selected;
  return push(std::move(n), no_source);
}

std::uint32_t expression_builder::append(const expression& e) {
  const auto base = static_cast<std::uint32_t>(nodes_.size());
  for (expr_node n : e.nodes) {
    for (auto& a : n.args)
      a += base;
    if (n.self) *n.self += base;
    push(std::move(n), no_source);
  }
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

bool expression_builder::is_literal(std::uint32_t i, std::string_view text) const {
  return nodes_[i].kind == expr_kind::literal && nodes_[i].text == text;
}

expression expression_builder::extract(std::uint32_t root,
                                       std::vector<std::int64_t>* sources) const {
  // The builder holds every expression of a whole graph while one expression is small, so only
  // the nodes reachable from root are visited (a pass over all indices below root made recording
  // quadratic in the graph). Children always have smaller indices than their parents, so copying
  // the reachable nodes in ascending index order is a valid order.
  std::vector<std::uint32_t> reachable{root};
  std::unordered_set<std::uint32_t> seen{root};
  for (std::size_t next = 0; next < reachable.size(); ++next) {
    const expr_node& n = nodes_[reachable[next]];
    const auto visit = [&](std::uint32_t child) {
      if (seen.insert(child).second) reachable.push_back(child);
    };
    for (auto a : n.args)
      visit(a);
    if (n.self) visit(*n.self);
  }
  std::sort(reachable.begin(), reachable.end());
  const auto new_index = [&](std::uint32_t old) {
    return static_cast<std::uint32_t>(std::lower_bound(reachable.begin(), reachable.end(), old) -
                                      reachable.begin());
  };
  expression out;
  out.nodes.reserve(reachable.size());
  if (sources) {
    sources->clear();
    sources->reserve(reachable.size());
  }
  for (const std::uint32_t i : reachable) {
    expr_node n = nodes_[i];
    for (auto& a : n.args)
      a = new_index(a);
    if (n.self) n.self = new_index(*n.self);
    out.nodes.push_back(std::move(n));
    if (sources) sources->push_back(sources_[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Templates

namespace {

// Recursive descent over a template of a few dozen characters: the depth is bounded by the
// template's length, never by the graph.
class template_parser {
 public:
  explicit template_parser(std::string_view text) : s_(text) {}

  parsed_template run() {
    parsed_template out;
    const auto root = expression();
    skip_space();
    out.ok = root.has_value() && pos_ == s_.size();
    if (out.ok) out.nodes = std::move(nodes_);
    return out;
  }

 private:
  using result = std::optional<std::uint32_t>;
  using node = parsed_template::node;

  std::uint32_t add(node n) {
    nodes_.push_back(std::move(n));
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }
  std::uint32_t make(op o, std::vector<std::uint32_t> children) {
    node n;
    n.what = node::kind::apply;
    n.operation = o;
    n.children = std::move(children);
    return add(std::move(n));
  }
  void skip_space() {
    while (pos_ < s_.size() && s_[pos_] == ' ')
      ++pos_;
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  result expression() {
    result left = term();
    while (left) {
      if (eat('+')) {
        const result right = term();
        if (!right) return std::nullopt;
        left = make(op::add, {*left, *right});
      } else if (eat('-')) {
        const result right = term();
        if (!right) return std::nullopt;
        left = make(op::sub, {*left, *right});
      } else {
        break;
      }
    }
    return left;
  }
  result term() {
    result left = unary();
    while (left) {
      if (eat('*')) {
        const result right = unary();
        if (!right) return std::nullopt;
        left = make(op::mul, {*left, *right});
      } else if (eat('/')) {
        const result right = unary();
        if (!right) return std::nullopt;
        left = make(op::div, {*left, *right});
      } else {
        break;
      }
    }
    return left;
  }
  result unary() {
    if (eat('-')) {
      const result inner = unary();
      if (!inner) return std::nullopt;
      return make(op::neg, {*inner});
    }
    return power();
  }
  result power() {
    const result base = primary();
    if (!base) return std::nullopt;
    if (eat('^')) {
      const result exponent = unary();
      if (!exponent) return std::nullopt;
      return make(op::pow, {*base, *exponent});
    }
    return base;
  }
  result primary() {
    skip_space();
    if (pos_ >= s_.size()) return std::nullopt;
    const char c = s_[pos_];
    if (c == '#') {
      if (pos_ + 1 >= s_.size()) return std::nullopt;
      const char p = s_[pos_ + 1];
      if (p != '0' && p != '1' && p != '2' && p != 'k') return std::nullopt;
      pos_ += 2;
      node n;
      n.what = node::kind::placeholder;
      n.placeholder = p;
      return add(std::move(n));
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      const std::size_t start = pos_;
      while (pos_ < s_.size() &&
             (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.'))
        ++pos_;
      node n;
      n.what = node::kind::number;
      n.text = std::string(s_.substr(start, pos_ - start));
      return add(std::move(n));
    }
    if (c == '(') {
      ++pos_;
      const result inner = expression();
      if (!inner || !eat(')')) return std::nullopt;
      return inner;
    }
    if (std::isalpha(static_cast<unsigned char>(c))) {
      const std::size_t start = pos_;
      while (pos_ < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
        ++pos_;
      const std::string_view name = s_.substr(start, pos_ - start);
      const op_info* found = nullptr;
      op found_op = op::add;
      for (std::size_t i = 0; i < op_count; ++i) {
        const op_info& meta = info(static_cast<op>(i));
        if (meta.name == name && meta.arity == 1 && meta.layout == notation::function) {
          found = &meta;
          found_op = static_cast<op>(i);
          break;
        }
      }
      if (found == nullptr || !eat('(')) return std::nullopt;
      const result arg = expression();
      if (!arg || !eat(')')) return std::nullopt;
      return make(found_op, {*arg});
    }
    return std::nullopt;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::vector<node> nodes_;
};

std::optional<long long> as_integer(const expression_builder& b, std::uint32_t i) {
  const expr_node& n = b.at(i);
  if (n.kind != expr_kind::literal || n.text.empty() || n.text.size() > 15) return std::nullopt;
  long long value = 0;
  const char* first = n.text.data();
  const char* last = first + n.text.size();
  const auto [end, error] = std::from_chars(first, last, value);
  if (error != std::errc{} || end != last) return std::nullopt;
  return value;
}

}  // namespace

parsed_template parse_template(std::string_view text) {
  return template_parser(text).run();
}

std::uint32_t instantiate_partial(expression_builder& b, op o, std::size_t k, std::uint32_t self,
                                  std::span<const std::uint32_t> inputs) {
  const op_info& meta = info(o);
  const std::size_t slot = meta.arity < 0 ? 0 : k;
  const std::string_view text = meta.partial_text[slot];
  const std::string_view latex = meta.partial_latex[slot];
  const auto placeholder = [&](char p) -> std::optional<std::uint32_t> {
    if (p == '0') return self;
    if (p == 'k') return inputs[k];
    const std::size_t i = static_cast<std::size_t>(p - '1');
    if (i < inputs.size()) return inputs[i];
    return std::nullopt;
  };

  const parsed_template parsed = parse_template(text);
  bool usable = parsed.ok;
  for (const auto& n : parsed.nodes) {
    if (n.what == parsed_template::node::kind::placeholder && !placeholder(n.placeholder))
      usable = false;
  }
  if (!usable) {
    // Kept whole: exporters substitute the placeholders themselves.
    std::vector<std::uint32_t> args(inputs.begin(), inputs.end());
    const bool uses_self = text.find("#0") != std::string_view::npos;
    const bool uses_k = text.find("#k") != std::string_view::npos;
    return b.apply_template(
        std::string(meta.name) + "'", std::string(text), std::string(latex), layout::function,
        static_cast<int>(precedence::atom), std::move(args),
        uses_self ? std::optional<std::uint32_t>(self) : std::nullopt,
        uses_k ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(k)) : std::nullopt);
  }

  std::vector<std::uint32_t> made(parsed.nodes.size());
  for (std::size_t i = 0; i < parsed.nodes.size(); ++i) {
    const auto& n = parsed.nodes[i];
    switch (n.what) {
      case parsed_template::node::kind::placeholder:
        made[i] = *placeholder(n.placeholder);
        break;
      case parsed_template::node::kind::number:
        made[i] = b.literal(n.text);
        break;
      case parsed_template::node::kind::apply: {
        std::vector<std::uint32_t> args;
        for (auto c : n.children)
          args.push_back(made[c]);
        if (n.operation == op::neg) {
          if (b.is_literal(args[0], "1")) {
            made[i] = b.literal("-1");
            break;
          }
          if (b.is_literal(args[0], "-1")) {
            made[i] = b.literal("1");
            break;
          }
        }
        if (args.size() == 2) {
          const auto x = as_integer(b, args[0]);
          const auto y = as_integer(b, args[1]);
          if (x && y &&
              (n.operation == op::add || n.operation == op::sub || n.operation == op::mul)) {
            const long long r = n.operation == op::add   ? *x + *y
                                : n.operation == op::sub ? *x - *y
                                                         : *x * *y;
            made[i] = b.literal(std::to_string(r));
            break;
          }
          if (n.operation == op::pow && b.is_literal(args[1], "1")) {
            made[i] = args[0];
            break;
          }
          if (n.operation == op::mul && b.is_literal(args[0], "1")) {
            made[i] = args[1];
            break;
          }
          if ((n.operation == op::mul || n.operation == op::div) && b.is_literal(args[1], "1")) {
            made[i] = args[0];
            break;
          }
        }
        op chosen = n.operation;
        if (chosen == op::pow && as_integer(b, args[1])) chosen = op::powi;
        made[i] = b.apply(chosen, std::move(args));
        break;
      }
    }
  }
  return made.back();
}

product split_factors(const expression_builder& b, std::uint32_t root, std::uint32_t first) {
  product out;
  std::vector<std::uint32_t> stack{root};
  while (!stack.empty()) {
    const std::uint32_t i = stack.back();
    stack.pop_back();
    const expr_node& n = b.at(i);
    if (i < first && n.kind == expr_kind::apply) {
      out.factors.push_back(i);
    } else if (n.kind == expr_kind::apply && n.op == "mul" && n.args.size() == 2) {
      // Right pushed first so factors come out left to right.
      stack.push_back(n.args[1]);
      stack.push_back(n.args[0]);
    } else if (n.kind == expr_kind::apply && n.op == "neg" && n.args.size() == 1) {
      out.sign = -out.sign;
      stack.push_back(n.args[0]);
    } else if (b.is_literal(i, "1")) {
      continue;
    } else if (b.is_literal(i, "-1")) {
      out.sign = -out.sign;
    } else {
      out.factors.push_back(i);
    }
  }
  return out;
}

static std::uint32_t emit_product(expression_builder& b,
                                  const std::vector<std::uint32_t>& factors) {
  if (factors.empty()) return b.literal("1");
  std::uint32_t acc = factors[0];
  for (std::size_t i = 1; i < factors.size(); ++i)
    acc = b.apply(op::mul, {acc, factors[i]});
  return acc;
}

std::uint32_t emit_sum(expression_builder& b, std::span<const product> terms) {
  if (terms.empty()) return b.literal("0");
  std::uint32_t acc = emit_product(b, terms[0].factors);
  if (terms[0].sign < 0) {
    acc = terms[0].factors.empty() ? b.literal("-1") : b.apply(op::neg, {acc});
  }
  for (std::size_t i = 1; i < terms.size(); ++i) {
    const std::uint32_t t = emit_product(b, terms[i].factors);
    acc = b.apply(terms[i].sign < 0 ? op::sub : op::add, {acc, t});
  }
  return acc;
}

}  // namespace chainrule::trace::detail
