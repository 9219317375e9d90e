// SPDX-License-Identifier: MIT
#include "chainrule/lang/lower.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <unordered_map>

#include "decimal.hpp"

namespace chainrule::lang {
namespace {

using chainrule::node_id;
using chainrule::op;

// The engine op of each one-to-one function.
std::optional<op> function_op(std::string_view name) {
  static const std::unordered_map<std::string_view, op> table{
      {"exp", op::exp},           {"log", op::log},
      {"sqrt", op::sqrt},         {"abs", op::abs},
      {"sin", op::sin},           {"cos", op::cos},
      {"tanh", op::tanh},         {"sigmoid", op::sigmoid},
      {"relu", op::relu},         {"leaky_relu", op::leaky_relu},
      {"softplus", op::softplus}, {"step", op::step},
      {"max", op::max},           {"min", op::min},
      {"sum", op::sum},           {"logsumexp", op::logsumexp}};
  const auto it = table.find(name);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

// What an expression node lowered to: a graph node, or a literal not yet made into a constant
// (literals are materialised only where used, so folding `-2` or an integer exponent leaves no
// stray constants in the graph).
struct lowered {
  std::optional<node_id> node;
  std::string literal;  // decimal text, possibly with a leading '-'
};

std::string negated(std::string_view text) {
  if (!text.empty() && text.front() == '-') return std::string(text.substr(1));
  std::string out = "-";
  out += text;
  return out;
}

template <class Real>
class lowerer {
 public:
  lowerer(const checked_model& m, lowered_model<Real>& out) : m_(m), out_(out), g_(*out.graph) {}

  void run() {
    for (const auto& d : m_.declarations)
      declare(d);
    for (const auto& e : m_.equations)
      equation(e);
    out_.objective = out_.nodes.at(m_.objective());
  }

 private:
  const checked_model& m_;
  lowered_model<Real>& out_;
  chainrule::graph<Real>& g_;
  // Vector-valued calls by (function, argument nodes): p_1 = softmax(z_1, z_2)[1] and
  // p_2 = softmax(z_1, z_2)[2] share one softmax group.
  std::map<std::pair<std::string, std::vector<node_id>>, std::vector<node_id>> groups_;

  void declare(const scalar_declaration& d) {
    try {
      declare_leaf(d);
    } catch (const chainrule::decimal_error& problem) {
      fail(d.location,
           fmt::format("the value of '{}' cannot be represented: {}", d.name, problem.what()));
    }
  }

  void declare_leaf(const scalar_declaration& d) {
    chainrule::var<Real> v;
    switch (d.kind) {
      case declaration_kind::input:
        v = g_.input(d.name, d.value);
        out_.inputs.push_back(v.id());
        break;
      case declaration_kind::target:
        v = g_.input(d.name, d.value);
        out_.targets.push_back(v.id());
        break;
      case declaration_kind::param:
        v = g_.parameter(d.name, d.value);
        out_.params.push_back(v.id());
        break;
      case declaration_kind::constant:
        v = g_.constant(d.name, d.value);
        out_.constants.push_back(v.id());
        break;
    }
    name(d.name, v.id());
  }

  void name(const std::string& n, node_id id) {
    if (const auto it = m_.symbols.find(n); it != m_.symbols.end()) g_.set_symbol(id, it->second);
    out_.nodes.emplace(n, id);
  }

  node_id materialise(const lowered& l) {
    if (l.node) return *l.node;
    return g_.constant(l.literal).id();
  }

  node_id apply(op o, std::initializer_list<node_id> inputs) {
    return g_.apply(o, std::span<const node_id>(inputs.begin(), inputs.size())).id();
  }

  void equation(const scalar_equation& e) {
    try {
      const lowered root = expression(e.value);
      node_id id = materialise(root);
      // `y = x`: x keeps its name, y gets a node of its own.
      if (!g_.name(id).empty()) id = apply(op::sum, {id});
      g_.set_name(id, e.name);
      name(e.name, id);
    } catch (const part_failure& part) {
      const chainrule::evaluation_error& problem = part.problem;
      std::string operands = problem.operands();
      const std::size_t comma = operands.find(", ");
      const bool several = comma != std::string::npos;
      // "2, 0" reads "2 and 0"; longer lists keep their commas.
      if (several && operands.find(", ", comma + 2) == std::string::npos) {
        operands.replace(comma, 2, " and ");
      }
      fail(part.location,
           fmt::format("cannot compute '{}': {}{}", e.name, problem.problem(),
                       operands.empty()
                           ? std::string()
                           : fmt::format("; {} {}", several ? "its operands are" : "its operand is",
                                         operands)));
    } catch (const chainrule::evaluation_error& problem) {
      fail(e.location, fmt::format("cannot compute '{}': {}", e.name, problem.what()));
    } catch (const chainrule::decimal_error& problem) {
      fail(e.location,
           fmt::format("a number in '{}' cannot be represented: {}", e.name, problem.what()));
    }
  }

  // An evaluation error with the place in the equation of the part that failed.
  struct part_failure : std::runtime_error {
    part_failure(source_location at, const chainrule::evaluation_error& error)
        : std::runtime_error(error.what()), location(std::move(at)), problem(error) {}
    source_location location;
    chainrule::evaluation_error problem;
  };

  [[noreturn]] static void fail(const source_location& at, std::string message) {
    diagnostic d;
    d.location = at;
    d.message = std::move(message);
    throw model_error({std::move(d)});
  }

  lowered expression(expr_id root) {
    const expression_arena& a = m_.expressions;
    std::unordered_map<expr_id, lowered> done;
    const auto get = [&](expr_id id) -> lowered& { return done.at(id); };
    for (const expr_id id : a.subtree(root)) {
      const std::size_t nodes_before = g_.size();
      try {
        done.emplace(id, part(id, get));
      } catch (const chainrule::evaluation_error& problem) {
        // Made by this part of the expression: point at it, not at the whole equation.
        if (problem.node() >= nodes_before && !problem.problem().empty()) {
          throw part_failure(a.location(id), problem);
        }
        throw;
      }
    }
    return done.at(root);
  }

  // One node of an expression, its children already lowered (`get`).
  template <class Get>
  lowered part(expr_id id, const Get& get) {
    const expression_arena& a = m_.expressions;
    const expr_node& n = a[id];
    const auto kids = a.children(id);
    lowered result;
    switch (n.kind) {
      case expr_kind::number:
        result.literal = n.text;
        break;
      case expr_kind::name:
        result.node = out_.nodes.at(n.text);
        break;
      case expr_kind::negate: {
        const lowered& x = get(kids[0]);
        if (x.node) {
          result.node = apply(op::neg, {*x.node});
        } else {
          result.literal = negated(x.literal);
        }
        break;
      }
      case expr_kind::add:
      case expr_kind::subtract:
      case expr_kind::multiply:
      case expr_kind::divide: {
        const op o = n.kind == expr_kind::add        ? op::add
                     : n.kind == expr_kind::subtract ? op::sub
                     : n.kind == expr_kind::multiply ? op::mul
                                                     : op::div;
        const node_id left = materialise(get(kids[0]));
        result.node = apply(o, {left, materialise(get(kids[1]))});
        break;
      }
      case expr_kind::power:
        result.node = power(materialise(get(kids[0])), get(kids[1]));
        break;
      case expr_kind::call:
        // A vector-valued call is lowered by the element node that selects from it.
        if (n.text != "softmax" && n.text != "log_softmax") result.node = call(n.text, kids, get);
        break;
      case expr_kind::element: {
        const expr_node& c = a[kids[0]];
        if (c.kind != expr_kind::call)
          throw std::logic_error("lower: element of a non-call in a checked model");
        std::vector<node_id> args;
        for (const expr_id k : a.children(kids[0]))
          args.push_back(materialise(get(k)));
        auto [it, inserted] = groups_.try_emplace({c.text, args});
        if (inserted) {
          std::vector<chainrule::var<Real>> xs;
          for (const node_id x : args)
            xs.emplace_back(&g_, x);
          const auto ys = c.text == "softmax" ? chainrule::softmax(xs) : chainrule::log_softmax(xs);
          for (const auto& y : ys)
            it->second.push_back(y.id());
        }
        result.node = it->second.at(n.index - 1);
        break;
      }
      case expr_kind::matmul:
      case expr_kind::keyword_argument:
        throw std::logic_error("lower: vector syntax left in a checked model");
    }
    return result;
  }

  // x^n with an integer literal n uses the integer-power op (any base, exact for small n).
  node_id power(node_id base, const lowered& exponent) {
    if (!exponent.node) {
      const std::string_view text = exponent.literal;
      const bool negative = !text.empty() && text.front() == '-';
      const auto n = detail::integer_value(negative ? text.substr(1) : text);
      if (n) return chainrule::pow(chainrule::var<Real>(&g_, base), negative ? -*n : *n).id();
    }
    return apply(op::pow, {base, materialise(exponent)});
  }

  template <typename Get>
  node_id call(const std::string& function, std::span<const expr_id> kids, Get& get) {
    if (function == "pow") return power(materialise(get(kids[0])), get(kids[1]));
    const auto o = function_op(function);
    if (!o) throw std::logic_error("lower: unknown function " + function);
    std::vector<node_id> args;
    args.reserve(kids.size());
    for (const expr_id k : kids)
      args.push_back(materialise(get(k)));
    return g_.apply(*o, std::span<const node_id>(args)).id();
  }
};

}  // namespace

template <class Real>
chainrule::node_id lowered_model<Real>::node(std::string_view name) const {
  const auto it = nodes.find(name);
  if (it == nodes.end())
    throw std::out_of_range("the model has no quantity named '" + std::string(name) + "'");
  return it->second;
}

template <class Real>
chainrule::number_format lowered_model<Real>::display_format() const {
  const auto round = display.rounding == rounding_mode::half_up ? chainrule::rounding::half_up
                                                                : chainrule::rounding::half_even;
  const int count = static_cast<int>(display.count);
  chainrule::number_format f =
      display.unit == display_unit::digits
          ? chainrule::number_format::significant(count, round, !display.keep_zeros)
          : chainrule::number_format::decimals(count, round, !display.keep_zeros);
  // precision.digits is 17 for double: enough to tell every double apart.
  f.max_significant =
      static_cast<int>(display.max_significant != 0 ? display.max_significant : precision.digits);
  return f;
}

template <class Real>
lowered_model<Real> lower(const checked_model& model) {
  lowered_model<Real> out;
  out.graph = std::make_unique<chainrule::graph<Real>>(model.precision.digits);
  out.precision = model.precision;
  out.display = model.display;
  out.train = model.train;
  out.differentiate = model.differentiate;
  out.data_sets = model.data_sets;
  lowerer<Real>(model, out).run();
  return out;
}

template struct lowered_model<double>;
template struct lowered_model<chainrule::mp_real>;
template lowered_model<double> lower<double>(const checked_model&);
template lowered_model<chainrule::mp_real> lower<chainrule::mp_real>(const checked_model&);

}  // namespace chainrule::lang
