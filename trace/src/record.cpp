// SPDX-License-Identifier: MIT
#include "chainrule/trace/record.hpp"

#include <unordered_set>

#include "recorder.hpp"

namespace chainrule::trace {
namespace detail {

// ---------------------------------------------------------------------------------------------
// Analysis

template <real_number Real>
recorder<Real>::recorder(const graph<Real>& g, node_id loss, const std::vector<node_id>& targets,
                         const std::vector<node_id>& parameters, const number_format& display,
                         unsigned exact_digits)
    : g_(&g),
      loss_(static_cast<std::uint32_t>(loss)),
      n_(g.size()),
      display_(display),
      exact_format_(number_format::significant(
          static_cast<int>(exact_digits == 0 ? g.digits() : exact_digits))) {
  if (loss_ >= n_)
    throw usage_error("the loss node " + std::to_string(loss_) + " does not exist in the graph");
  typename scalar_traits<Real>::precision_scope scope(g.digits());
  const auto id = [](std::uint32_t i) { return static_cast<node_id>(i); };

  target_.assign(n_, 0);
  for (node_id t : targets) {
    const auto i = static_cast<std::uint32_t>(t);
    if (i >= n_ || g.op_of(t) != op::input) {
      throw usage_error("a target must be an input node; " +
                        (i < n_ ? g.describe(t) : "node " + std::to_string(i)) + " is not");
    }
    target_[i] = 1;
  }

  // Consumer counts decide whether an unnamed result is shown (nobody uses it) or folded.
  std::vector<std::uint32_t> consumers(n_, 0);
  for (std::uint32_t i = 0; i < n_; ++i) {
    for (node_id in : g.inputs(id(i)))
      ++consumers[static_cast<std::size_t>(in)];
  }
  shown_.assign(n_, 0);
  literal_.assign(n_, 0);
  for (std::uint32_t i = 0; i < n_; ++i) {
    const op o = g.op_of(id(i));
    const bool named = !g.name(id(i)).empty();
    if (o == op::constant && !named) {
      literal_[i] = 1;
    } else if (is_leaf(o) || named || i == loss_ || consumers[i] == 0) {
      shown_[i] = 1;
    }
  }

  // Owners: consumers have larger ids, so a descending pass sees every consumer's owner first.
  owner_.assign(n_, none);
  for (std::uint32_t i = static_cast<std::uint32_t>(n_); i-- > 0;) {
    if (is_shown(i)) owner_[i] = i;
    const std::uint32_t mine = owner_[i];
    if (mine == none) continue;
    for (node_id in : g.inputs(id(i))) {
      const auto j = static_cast<std::uint32_t>(in);
      if (!is_shown(j)) owner_[j] = std::min(owner_[j], mine);
    }
  }

  relevant_.assign(n_, 0);
  relevant_[loss_] = 1;
  for (std::uint32_t i = loss_ + 1; i-- > 0;) {
    if (!relevant_[i]) continue;
    for (node_id in : g.inputs(id(i)))
      relevant_[static_cast<std::size_t>(in)] = 1;
  }

  stamp_.assign(n_, 0);
  work_.assign(n_, scalar_traits<Real>::zero(g.digits()));
  scratch_ = scalar_traits<Real>::zero(g.digits());

  // Folded subtrees, formulas and named-level edges.
  out_edges_.assign(n_, {});
  sub_begin_.push_back(0);
  std::vector<std::uint32_t> nodes, boundary;
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (!is_shown(i) || is_leaf(g.op_of(id(i)))) continue;
    computed_.push_back(i);
    collect_subtree(i, nodes, boundary);
    sub_nodes_.insert(sub_nodes_.end(), nodes.begin(), nodes.end());
    sub_begin_.push_back(static_cast<std::uint32_t>(sub_nodes_.size()));
    local_forms forms = build_local(i);
    formulas_.push_back(std::move(forms.formula));
    for (auto& [from, form] : forms.partials) {
      out_edges_[from].push_back(static_cast<std::uint32_t>(edges_.size()));
      edges_.push_back({from, i});
      edge_forms_.push_back(std::move(form));
    }
  }

  // Ranks: computed quantities above their deepest input, leaves just below their first consumer.
  rank_.assign(n_, 0);
  for (std::size_t e = 0; e < edges_.size(); ++e) {
    const auto [from, to] = edges_[e];
    const bool computed_input = !is_leaf(g.op_of(id(from)));
    rank_[to] = std::max(rank_[to], computed_input ? rank_[from] + 1 : 1u);
  }
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (!is_shown(i) || !is_leaf(g.op_of(id(i)))) continue;
    std::uint32_t lowest = none;
    for (auto e : out_edges_[i])
      lowest = std::min(lowest, rank_[edges_[e].to]);
    rank_[i] = (lowest == none || lowest == 0) ? 0 : lowest - 1;
  }
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (!is_shown(i) && owner_[i] != none) rank_[i] = rank_[owner_[i]];
  }

  if (parameters.empty()) {
    for (std::uint32_t i = 0; i < n_; ++i) {
      if (g.op_of(id(i)) == op::parameter) parameters_.push_back(i);
    }
  } else {
    for (node_id p : parameters) {
      const auto i = static_cast<std::uint32_t>(p);
      if (i >= n_ || g.op_of(p) != op::parameter) {
        throw usage_error("only a parameter can be trained; " +
                          (i < n_ ? g.describe(p) : "node " + std::to_string(i)) + " is not one");
      }
      if (std::find(parameters_.begin(), parameters_.end(), i) != parameters_.end()) {
        throw usage_error(g.describe(p) + " is listed twice among the trained parameters");
      }
      parameters_.push_back(i);
    }
  }
  std::sort(parameters_.begin(), parameters_.end(), [&](std::uint32_t a, std::uint32_t b) {
    return rank_[a] != rank_[b] ? rank_[a] > rank_[b] : a < b;
  });
}

template <real_number Real>
void recorder<Real>::collect_subtree(std::uint32_t top, std::vector<std::uint32_t>& nodes,
                                     std::vector<std::uint32_t>& boundary) {
  nodes.clear();
  boundary.clear();
  ++stamp_value_;
  std::vector<std::uint32_t> stack{top};
  stamp_[top] = stamp_value_;
  while (!stack.empty()) {
    const std::uint32_t u = stack.back();
    stack.pop_back();
    nodes.push_back(u);
    for (node_id in : g_->inputs(static_cast<node_id>(u))) {
      const auto j = static_cast<std::uint32_t>(in);
      if (stamp_[j] == stamp_value_) continue;
      stamp_[j] = stamp_value_;
      if (is_literal(j)) continue;
      if (is_shown(j)) {
        boundary.push_back(j);
      } else {
        stack.push_back(j);
      }
    }
  }
  std::sort(nodes.begin(), nodes.end(), std::greater<>());
  std::sort(boundary.begin(), boundary.end());
}

template <real_number Real>
std::string recorder<Real>::literal_text(std::uint32_t i) const {
  const std::string_view source = g_->decimal_source(static_cast<node_id>(i));
  if (!source.empty()) return std::string(source);
  return g_->format(g_->value(static_cast<node_id>(i)), exact_format_);
}

template <real_number Real>
Real recorder<Real>::literal_value(const expression_builder& b, std::uint32_t node) const {
  const std::int64_t source = b.source(node);
  if (source >= 0) return g_->value(static_cast<node_id>(source));
  return scalar_traits<Real>::from_decimal(b.at(node).text, g_->digits());
}

namespace {

/// True if every leaf below builder node `root` is a literal (a constant expression). Gives up on
/// large subexpressions: constants worth cancelling are small.
bool only_literals(const expression_builder& b, std::uint32_t root) {
  constexpr std::size_t budget = 256;
  std::size_t visited = 0;
  std::vector<std::uint32_t> stack{root};
  while (!stack.empty()) {
    if (++visited > budget) return false;
    const expr_node& n = b.at(stack.back());
    stack.pop_back();
    if (n.kind == expr_kind::apply) {
      if (n.self) return false;
      stack.insert(stack.end(), n.args.begin(), n.args.end());
    } else if (n.kind != expr_kind::literal) {
      return false;
    }
  }
  return true;
}

}  // namespace

template <real_number Real>
typename recorder<Real>::local_forms recorder<Real>::build_local(std::uint32_t top) {
  std::vector<std::uint32_t> nodes, boundary;
  collect_subtree(top, nodes, boundary);
  expression_builder b;
  std::unordered_map<std::uint32_t, std::uint32_t> memo;

  // The formula of engine node u inside `top`: named quantities and leaves stay symbols, unnamed
  // intermediates are expanded. Post-order with an explicit stack.
  const auto sub = [&](std::uint32_t u) -> std::uint32_t {
    if (auto found = memo.find(u); found != memo.end()) return found->second;
    std::vector<std::pair<std::uint32_t, bool>> stack{{u, false}};
    while (!stack.empty()) {
      const auto [x, expanded] = stack.back();
      stack.pop_back();
      if (memo.contains(x)) continue;
      if (is_literal(x)) {
        memo[x] = b.literal(literal_text(x), x);
        continue;
      }
      if (x != top && is_shown(x)) {
        memo[x] = b.quantity(x);
        continue;
      }
      const auto ins = g_->inputs(static_cast<node_id>(x));
      if (!expanded) {
        stack.push_back({x, true});
        for (std::size_t k = ins.size(); k-- > 0;) {
          const auto j = static_cast<std::uint32_t>(ins[k]);
          if (!memo.contains(j)) stack.push_back({j, false});
        }
        continue;
      }
      std::vector<std::uint32_t> args;
      args.reserve(ins.size());
      for (node_id in : ins)
        args.push_back(memo.at(static_cast<std::uint32_t>(in)));
      memo[x] = b.apply(g_->op_of(static_cast<node_id>(x)), std::move(args), x);
    }
    return memo.at(u);
  };

  local_forms out;
  const std::uint32_t formula_root = sub(top);
  out.formula.expr = b.extract(formula_root, &out.formula.sources);

  // Symbolic reverse sweep: each node collects the products of op partial templates along the
  // paths from `top` down to it. A product is a persistent list (each link points to the rest of
  // the product above it), so extending one along a chain of intermediates costs one link, not a
  // copy of everything above.
  struct link {
    std::uint32_t up;
    std::uint32_t factor;
  };
  struct path {
    int sign = 1;
    std::uint32_t tail = none;
  };
  std::vector<link> links;
  std::unordered_map<std::uint32_t, std::vector<path>> sym;
  std::unordered_map<std::uint32_t, char> overflow;
  sym[top].push_back(path{});
  const std::uint32_t top_symbol = is_shown(top) ? b.quantity(top) : formula_root;
  for (std::uint32_t u : nodes) {
    auto found = sym.find(u);
    if (found == sym.end()) continue;
    const std::vector<path> terms = std::move(found->second);
    sym.erase(found);
    const bool lost = overflow.contains(u);
    const auto ins = g_->inputs(static_cast<node_id>(u));
    const op o = g_->op_of(static_cast<node_id>(u));
    std::vector<std::uint32_t> in_nodes;
    in_nodes.reserve(ins.size());
    for (node_id in : ins)
      in_nodes.push_back(sub(static_cast<std::uint32_t>(in)));
    const std::uint32_t self = u == top ? top_symbol : sub(u);
    for (std::size_t k = 0; k < ins.size(); ++k) {
      const auto j = static_cast<std::uint32_t>(ins[k]);
      if (is_literal(j)) continue;
      if (lost) {
        overflow[j] = 1;
        sym[j];
        continue;
      }
      const auto first_new = static_cast<std::uint32_t>(b.size());
      const std::uint32_t partial = instantiate_partial(b, o, k, self, in_nodes);
      if (b.is_literal(partial, "0")) continue;
      const product pk = split_factors(b, partial, first_new);
      auto& target = sym[j];
      for (const path& t : terms) {
        if (target.size() >= max_symbolic_terms) {
          overflow[j] = 1;
          break;
        }
        path next{t.sign * pk.sign, t.tail};
        for (auto f : pk.factors) {
          links.push_back({next.tail, f});
          next.tail = static_cast<std::uint32_t>(links.size() - 1);
        }
        target.push_back(next);
      }
    }
  }
  const auto materialize = [&](const path& p) {
    product made;
    made.sign = p.sign;
    for (std::uint32_t at = p.tail; at != none; at = links[at].up)
      made.factors.push_back(links[at].factor);
    std::reverse(made.factors.begin(), made.factors.end());
    return made;
  };

  for (std::uint32_t j : boundary) {
    sourced_expression form;
    auto found = sym.find(j);
    if (found != sym.end() && !overflow.contains(j)) {
      std::vector<product> terms;
      for (const path& p : found->second)
        terms.push_back(materialize(p));
      for (product& t : terms) {
        // Constant factors (literals, or intermediates made of literals only, such as the 1/2
        // of 1/2*(t - y)^2) whose product is exactly 1 or -1 disappear with the 2 that the power
        // brings down; any other constant factors are kept as they are.
        Real value = scalar_traits<Real>::from_decimal("1", g_->digits());
        std::vector<std::uint32_t> others;
        bool any = false;
        for (auto f : t.factors) {
          if (b.at(f).kind == expr_kind::literal) {
            value *= literal_value(b, f);
            any = true;
          } else if (b.source(f) >= 0 && only_literals(b, f)) {
            value *= g_->value(static_cast<node_id>(b.source(f)));
            any = true;
          } else {
            others.push_back(f);
          }
        }
        if (!any) continue;
        if (value == 1 || value == -1) {
          if (value == -1) t.sign = -t.sign;
          t.factors = std::move(others);
        }
      }
      form.expr = b.extract(emit_sum(b, terms), &form.sources);
    }
    out.partials.emplace_back(j, std::move(form));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Numbers

template <real_number Real>
number recorder<Real>::num(const Real& x) const {
  return {g_->format(x, exact_format_), g_->format(x, display_)};
}

template <real_number Real>
expression recorder<Real>::with_values(const sourced_expression& e) const {
  expression out = e.expr;
  for (std::size_t i = 0; i < out.nodes.size(); ++i) {
    const std::int64_t source = e.sources[i];
    expr_node& n = out.nodes[i];
    if (source >= 0) {
      n.value = formatted_ != nullptr ? (*formatted_)[static_cast<std::size_t>(source)]
                                      : num(g_->value(static_cast<node_id>(source)));
    } else if (n.kind == expr_kind::literal) {
      typename scalar_traits<Real>::precision_scope scope(g_->digits());
      n.value = num(scalar_traits<Real>::from_decimal(n.text, g_->digits()));
    }
  }
  return out;
}

template <real_number Real>
void recorder<Real>::edge_values(const view<Real>& v, std::vector<Real>& out) {
  typename scalar_traits<Real>::precision_scope scope(g_->digits());
  out.resize(edges_.size(), scratch_);
  std::size_t e = 0;
  for (std::size_t c = 0; c < computed_.size(); ++c) {
    const std::uint32_t top = computed_[c];
    const std::span<const std::uint32_t> nodes(sub_nodes_.data() + sub_begin_[c],
                                               sub_begin_[c + 1] - sub_begin_[c]);
    for (auto u : nodes) {
      work_[u] = 0;
      for (node_id in : g_->inputs(static_cast<node_id>(u)))
        work_[static_cast<std::size_t>(in)] = 0;
    }
    work_[top] = 1;
    for (auto u : nodes) {
      const auto ins = g_->inputs(static_cast<node_id>(u));
      for (std::size_t k = 0; k < ins.size(); ++k) {
        const auto j = static_cast<std::uint32_t>(ins[k]);
        if (is_literal(j)) continue;
        scalar_traits<Real>::add_product(work_[j], v.partial(u, k), work_[u], scratch_);
      }
    }
    for (; e < edges_.size() && edges_[e].to == top; ++e)
      out[e] = work_[edges_[e].from];
  }
}

template <real_number Real>
std::uint32_t recorder<Real>::edge_index(std::uint32_t from, std::uint32_t to) const {
  for (auto e : out_edges_[from]) {
    if (edges_[e].to == to) return e;
  }
  return none;
}

template <real_number Real>
bool recorder<Real>::is_unit(std::uint32_t edge) const {
  const expression& f = edge_forms_[edge].expr;
  return f.nodes.size() == 1 && f.nodes[0].kind == expr_kind::literal && f.nodes[0].text == "1";
}

template <real_number Real>
std::vector<std::uint32_t> recorder<Real>::relevant_out(std::uint32_t node) const {
  std::vector<std::uint32_t> out;
  for (auto e : out_edges_[node]) {
    if (relevant_[edges_[e].to]) out.push_back(e);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Documents

static std::string_view rounding_name(rounding r) {
  switch (r) {
    case rounding::half_even:
      return "half_even";
    case rounding::half_up:
      return "half_up";
    case rounding::toward_zero:
      return "toward_zero";
  }
  return "half_even";
}

}  // namespace detail

display_format describe_display(const number_format& f) {
  display_format d;
  d.significant = f.kind == number_format::mode::significant;
  d.count = f.count;
  d.rounding = std::string(detail::rounding_name(f.round));
  d.strip_trailing_zeros = f.strip_trailing_zeros;
  d.max_significant = f.max_significant;
  d.description = std::to_string(f.count) + (d.significant ? " significant digits" : " decimals");
  if (f.round != rounding::half_even) d.description += ", " + d.rounding;
  return d;
}

namespace detail {

template <real_number Real>
document recorder<Real>::model(const record_options& options) const {
  document doc;
  doc.title = options.title;
  doc.source = options.source;
  doc.config.precision = scalar_traits<Real>::has_runtime_precision
                             ? std::to_string(g_->digits()) + " digits"
                             : "double";
  doc.config.digits = static_cast<unsigned>(exact_format_.count);
  doc.config.display = describe_display(display_);
  doc.loss = loss_;

  doc.quantities.resize(n_);
  std::size_t c = 0;
  for (std::uint32_t i = 0; i < n_; ++i) {
    const auto id = static_cast<node_id>(i);
    quantity& q = doc.quantities[i];
    const op o = g_->op_of(id);
    q.name = std::string(g_->name(id));
    q.symbol = std::string(g_->symbol(id));
    q.op = std::string(info(o).name);
    switch (o) {
      case op::input:
        q.kind = target_[i] ? quantity_kind::target : quantity_kind::input;
        break;
      case op::parameter:
        q.kind = quantity_kind::parameter;
        break;
      case op::constant:
        q.kind = quantity_kind::constant;
        break;
      default:
        q.kind = i == loss_ ? quantity_kind::loss : quantity_kind::computed;
        break;
    }
    if (!is_shown(i) && owner_[i] != none) q.folded_into = owner_[i];
    q.rank = rank_[i];
    if (is_leaf(o)) q.source = std::string(g_->decimal_source(id));
    if (c < computed_.size() && computed_[c] == i) {
      q.formula = formulas_[c].expr;
      doc.computed.push_back(i);
      ++c;
    } else if (is_shown(i) && is_leaf(o)) {
      doc.given.push_back(i);
    }
  }
  doc.parameters = parameters_;
  for (std::size_t e = 0; e < edges_.size(); ++e) {
    doc.edges.push_back({edges_[e].from, edges_[e].to, edge_forms_[e].expr});
  }
  for (std::uint32_t i = 0; i < n_; ++i) {
    for (node_id in : g_->inputs(static_cast<node_id>(i))) {
      doc.engine_edges.push_back({static_cast<quantity_index>(in), i, {}});
    }
  }
  return doc;
}

template <real_number Real>
snapshot recorder<Real>::take_snapshot() const {
  snapshot s;
  s.values.reserve(n_);
  for (std::uint32_t i = 0; i < n_; ++i)
    s.values.push_back(num(g_->value(static_cast<node_id>(i))));
  s.loss = s.values[loss_];
  return s;
}

template <real_number Real>
std::vector<forward_step> recorder<Real>::forward_steps() const {
  std::vector<forward_step> out;
  out.reserve(computed_.size());
  for (std::size_t c = 0; c < computed_.size(); ++c) {
    const std::uint32_t q = computed_[c];
    out.push_back(
        {q, with_values(formulas_[c]),
         formatted_ != nullptr ? (*formatted_)[q] : num(g_->value(static_cast<node_id>(q)))});
  }
  return out;
}

template <real_number Real>
iteration recorder<Real>::record(const view<Real>& v, std::uint64_t index) {
  iteration it;
  it.index = index;
  it.forward = take_snapshot();
  struct release {
    const std::vector<number>*& slot;
    ~release() { slot = nullptr; }
  } scoped{formatted_};
  formatted_ = &it.forward.values;
  it.forward_steps = forward_steps();
  for (std::uint32_t i = 0; i < n_; ++i) {
    for (std::size_t k = 0; k < g_->inputs(static_cast<node_id>(i)).size(); ++k) {
      it.engine_edge_partials.push_back(num(v.partial(i, k)));
    }
  }
  std::vector<Real> values;
  edge_values(v, values);
  for (const Real& x : values)
    it.edge_partials.push_back(num(x));
  if (!v.has_gradients) {
    it.gradients.assign(n_, number{});
    return it;
  }
  for (std::uint32_t i = 0; i < n_; ++i)
    it.gradients.push_back(num(v.adjoint(i)));
  it.backward = chain_steps(v, parameters_);
  return it;
}

// ---------------------------------------------------------------------------------------------
// Chain rule

template <real_number Real>
struct recorder<Real>::chain_context {
  const view<Real>* v = nullptr;
  std::vector<Real> edge_values;
  std::vector<gradient_step> steps;
  std::unordered_map<std::uint32_t, std::uint32_t>
      sum_steps;  // node with several consumers -> step
};

template <real_number Real>
factor recorder<Real>::link_factor(const chain_context& c, std::uint32_t edge,
                                   std::uint32_t of) const {
  factor f;
  f.d.of = of;
  f.d.wrt = edges_[edge].from;
  f.form = with_values(edge_forms_[edge]);
  f.value = num(c.edge_values[edge]);
  return f;
}

template <real_number Real>
std::vector<factor> recorder<Real>::link_factors(const chain_context& c,
                                                 const std::vector<std::uint32_t>& top_down) const {
  // A link whose partial is the literal 1 (a sum) merges with the link below it, so that
  // dE_total/dE_o1 * dE_o1/dout_o1 is shown as the one factor dE_total/dout_o1.
  std::vector<factor> out;
  std::optional<std::uint32_t> pending;
  for (auto e : top_down) {
    if (is_unit(e)) {
      if (!pending) pending = edges_[e].to;
      continue;
    }
    out.push_back(link_factor(c, e, pending ? *pending : edges_[e].to));
    pending.reset();
  }
  if (pending && !top_down.empty()) {
    const std::uint32_t bottom = edges_[top_down.back()].from;
    if (!out.empty()) {
      out.back().d.wrt = bottom;
    } else {
      factor one = link_factor(c, top_down.back(), *pending);
      out.push_back(std::move(one));
    }
  }
  return out;
}

template <real_number Real>
bool recorder<Real>::reaches(std::uint32_t from, std::uint32_t target,
                             std::uint32_t except_edge) const {
  // Bounded search: beyond the budget the answer "yes" only makes a label more explicit.
  constexpr std::size_t budget = 100000;
  std::vector<std::uint32_t> stack;
  std::unordered_set<std::uint32_t> seen;
  for (auto e : out_edges_[from]) {
    if (e != except_edge && relevant_[edges_[e].to] && edges_[e].to <= target)
      stack.push_back(edges_[e].to);
  }
  std::size_t visits = 0;
  while (!stack.empty()) {
    const std::uint32_t x = stack.back();
    stack.pop_back();
    if (x == target) return true;
    if (++visits > budget) return true;
    if (!seen.insert(x).second) continue;
    for (auto e : out_edges_[x]) {
      if (relevant_[edges_[e].to] && edges_[e].to <= target) stack.push_back(edges_[e].to);
    }
  }
  return false;
}

namespace {
enum class stop : std::uint8_t { at_loss, below_unit_loss, at_branch };
struct walk {
  std::vector<std::uint32_t> links;  // bottom-up
  std::uint32_t top = 0;
  stop how = stop::at_loss;
};
}  // namespace

template <real_number Real>
std::uint32_t recorder<Real>::ensure_sum_step(chain_context& c, std::uint32_t m) {
  // Walks up from a consumer through single-consumer links. In a sum term the walk stops below a
  // unit link into the loss, so the term is labelled dE_o1/dout_h1 as in the textbook.
  const auto walk_up = [&](std::uint32_t start) {
    walk w;
    std::uint32_t y = start;
    while (true) {
      if (y == loss_) {
        w.how = stop::at_loss;
        break;
      }
      const auto outs = relevant_out(y);
      if (outs.size() != 1) {
        w.how = stop::at_branch;
        break;
      }
      const std::uint32_t e = outs[0];
      if (edges_[e].to == loss_ && is_unit(e)) {
        w.how = stop::below_unit_loss;
        break;
      }
      w.links.push_back(e);
      y = edges_[e].to;
    }
    w.top = y;
    return w;
  };

  std::vector<std::uint32_t> stack{m};
  while (!stack.empty()) {
    const std::uint32_t x = stack.back();
    if (c.sum_steps.contains(x)) {
      stack.pop_back();
      continue;
    }
    const auto outs = relevant_out(x);
    bool missing = false;
    std::vector<walk> walks;
    for (auto e : outs) {
      walk w = walk_up(edges_[e].to);
      if (w.how == stop::at_branch && !c.sum_steps.contains(w.top)) {
        stack.push_back(w.top);
        missing = true;
      }
      walks.push_back(std::move(w));
    }
    if (missing) continue;

    typename scalar_traits<Real>::precision_scope scope(g_->digits());
    gradient_step sum;
    sum.combine = gradient_step::kind::sum;
    sum.d = {loss_, x, std::nullopt, false};
    for (std::size_t t = 0; t < outs.size(); ++t) {
      const std::uint32_t e = outs[t];
      const std::uint32_t consumer = edges_[e].to;
      const walk& w = walks[t];
      // Upper part: d(top)/d(consumer).
      std::vector<factor> upper;
      if (w.how == stop::at_branch) {
        factor composite;
        composite.d = {loss_, w.top, std::nullopt, false};
        composite.value = num(c.v->adjoint(w.top));
        composite.defined_by = c.sum_steps.at(w.top);
        upper.push_back(std::move(composite));
      }
      std::vector<std::uint32_t> top_down(w.links.rbegin(), w.links.rend());
      for (factor& f : link_factors(c, top_down))
        upper.push_back(std::move(f));
      const std::uint32_t label = w.how == stop::below_unit_loss ? w.top : loss_;
      std::vector<factor> term;
      if (upper.size() >= 2) {
        gradient_step helper;
        helper.d = {label, consumer, std::nullopt, false};
        helper.factors = std::move(upper);
        helper.value = num(c.v->adjoint(consumer));
        c.steps.push_back(std::move(helper));
        factor composite;
        composite.d = c.steps.back().d;
        composite.value = c.steps.back().value;
        composite.defined_by = static_cast<std::uint32_t>(c.steps.size() - 1);
        term.push_back(std::move(composite));
      } else if (upper.size() == 1) {
        term.push_back(std::move(upper[0]));
      }
      term.push_back(link_factor(c, e, consumer));
      derivative d{label, x, consumer, false};
      d.via_needed = label == loss_ ? outs.size() > 1 : false;
      if (label != loss_) {
        for (auto other : outs) {
          if (other != e && reaches(edges_[other].to, label, none)) d.via_needed = true;
          if (other != e && edges_[other].to == label) d.via_needed = true;
        }
      }
      // Term value: d loss/d consumer * d consumer/d x.
      Real value = c.v->adjoint(consumer);
      value *= c.edge_values[e];
      factor summand;
      if (term.size() >= 2) {
        gradient_step product_step;
        product_step.d = d;
        product_step.factors = std::move(term);
        product_step.value = num(value);
        c.steps.push_back(std::move(product_step));
        summand.d = d;
        summand.value = c.steps.back().value;
        summand.defined_by = static_cast<std::uint32_t>(c.steps.size() - 1);
      } else {
        summand = std::move(term[0]);
        summand.d = d;
        summand.value = num(value);
      }
      sum.factors.push_back(std::move(summand));
    }
    sum.value = num(c.v->adjoint(x));
    c.steps.push_back(std::move(sum));
    c.sum_steps[x] = static_cast<std::uint32_t>(c.steps.size() - 1);
    stack.pop_back();
  }
  return c.sum_steps.at(m);
}

template <real_number Real>
std::vector<gradient_step> recorder<Real>::chain_steps(const view<Real>& v,
                                                       std::span<const std::uint32_t> params) {
  if (!v.has_gradients)
    throw usage_error("chain-rule steps need a backward pass from the loss first");
  chain_context c;
  c.v = &v;
  edge_values(v, c.edge_values);
  for (const std::uint32_t p : params) {
    if (!relevant_[p]) {
      gradient_step none_step;
      none_step.d = {loss_, p, std::nullopt, false};
      none_step.value = num(scalar_traits<Real>::zero(g_->digits()));
      none_step.parameter = p;
      c.steps.push_back(std::move(none_step));
      continue;
    }
    // Up from the parameter through single-consumer links to the loss or to a branch point.
    std::vector<std::uint32_t> links;
    std::uint32_t y = p;
    bool branch = false;
    while (y != loss_) {
      const auto outs = relevant_out(y);
      if (outs.size() != 1) {
        branch = true;
        break;
      }
      links.push_back(outs[0]);
      y = edges_[outs[0]].to;
    }
    if (branch && y == p) {
      // The parameter itself has several consumers: its sum step is its gradient.
      const std::uint32_t s = ensure_sum_step(c, p);
      c.steps[s].parameter = p;
      continue;
    }
    gradient_step step;
    step.d = {loss_, p, std::nullopt, false};
    step.parameter = p;
    if (branch) {
      const std::uint32_t s = ensure_sum_step(c, y);
      factor composite;
      composite.d = c.steps[s].d;
      composite.value = c.steps[s].value;
      composite.defined_by = s;
      step.factors.push_back(std::move(composite));
    }
    std::vector<std::uint32_t> top_down(links.rbegin(), links.rend());
    std::vector<factor> lower = link_factors(c, top_down);
    // Merging the unit links can leave one factor that is the gradient itself (E = c + 1 with
    // c = v*x would read dE/dv = dE/dv); then every link stays a factor: dE/dc = 1, dc/dv = x.
    if (!branch && lower.size() == 1 && top_down.size() > 1) {
      lower.clear();
      for (auto e : top_down)
        lower.push_back(link_factor(c, e, edges_[e].to));
    }
    for (factor& f : lower)
      step.factors.push_back(std::move(f));
    step.value = num(v.adjoint(p));
    c.steps.push_back(std::move(step));
  }
  return std::move(c.steps);
}

template <real_number Real>
expression recorder<Real>::local_partial_form(std::uint32_t top, std::uint32_t wrt) {
  local_forms forms = build_local(top);
  for (auto& [node, form] : forms.partials) {
    if (node == wrt && !form.expr.empty()) return with_values(form);
  }
  return {};
}

std::string latex_symbol(const quantity& q, quantity_index index) {
  if (!q.symbol.empty()) return q.symbol;
  if (q.name.empty()) return "\\#" + std::to_string(index);
  const std::size_t cut = q.name.find('_');
  const auto escape = [](std::string_view s) {
    std::string out;
    for (char ch : s) {
      if (ch == '_') out += '\\';
      out += ch;
    }
    return out;
  };
  if (cut == std::string::npos || cut == 0 || cut + 1 == q.name.size()) return escape(q.name);
  return escape(q.name.substr(0, cut)) + "_{" + escape(q.name.substr(cut + 1)) + "}";
}

template class recorder<double>;
template class recorder<mp_real>;

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Public entry points

template <real_number Real>
document record_model(const graph<Real>& g, node_id loss, const record_options& options) {
  detail::recorder<Real> r(g, loss, options.targets, options.parameters, options.display,
                           options.exact_digits);
  return r.model(options);
}

static std::vector<node_id> targets_of(const document& model) {
  std::vector<node_id> out;
  for (std::size_t i = 0; i < model.quantities.size(); ++i) {
    if (model.quantities[i].kind == quantity_kind::target) out.push_back(static_cast<node_id>(i));
  }
  return out;
}

static std::vector<node_id> parameters_of(const document& model) {
  std::vector<node_id> out;
  for (auto p : model.parameters)
    out.push_back(static_cast<node_id>(p));
  return out;
}

static number_format format_of(const display_format& d) {
  number_format f =
      d.significant ? number_format::significant(d.count) : number_format::decimals(d.count);
  f.strip_trailing_zeros = d.strip_trailing_zeros;
  f.max_significant = d.max_significant;
  if (d.rounding == "half_up") f.round = rounding::half_up;
  if (d.rounding == "toward_zero") f.round = rounding::toward_zero;
  return f;
}

template <real_number Real>
static void check_model(const graph<Real>& g, const document& model) {
  if (model.quantities.size() != g.size()) {
    throw usage_error("the trace model has " + std::to_string(model.quantities.size()) +
                      " quantities but the graph has " + std::to_string(g.size()) +
                      " nodes: record the model from this graph");
  }
}

template <real_number Real>
snapshot record_snapshot(const graph<Real>& g, const document& model) {
  check_model(g, model);
  detail::recorder<Real> r(g, static_cast<node_id>(model.loss), targets_of(model),
                           parameters_of(model), format_of(model.config.display),
                           model.config.digits);
  return r.take_snapshot();
}

template <real_number Real>
iteration record_iteration(const graph<Real>& g, const document& model, std::uint64_t index) {
  check_model(g, model);
  detail::recorder<Real> r(g, static_cast<node_id>(model.loss), targets_of(model),
                           parameters_of(model), format_of(model.config.display),
                           model.config.digits);
  return r.record(detail::graph_view(g, model.loss), index);
}

template <real_number Real>
document record(const graph<Real>& g, node_id loss, const record_options& options) {
  detail::recorder<Real> r(g, loss, options.targets, options.parameters, options.display,
                           options.exact_digits);
  document doc = r.model(options);
  doc.iterations.push_back(r.record(detail::graph_view(g, r.loss()), 1));
  doc.config.traced = {1};
  doc.config.traced_description = "the current values";
  doc.final_state = doc.iterations.back().forward;
  doc.final_steps = doc.iterations.back().forward_steps;
  doc.loss_history.push_back({0, doc.final_state.loss});
  return doc;
}

#define CHAINRULE_TRACE_RECORD_INSTANTIATE(Real)                                                 \
  template document record_model<Real>(const graph<Real>&, node_id, const record_options&);      \
  template snapshot record_snapshot<Real>(const graph<Real>&, const document&);                  \
  template iteration record_iteration<Real>(const graph<Real>&, const document&, std::uint64_t); \
  template document record<Real>(const graph<Real>&, node_id, const record_options&);
CHAINRULE_TRACE_RECORD_INSTANTIATE(double)
CHAINRULE_TRACE_RECORD_INSTANTIATE(mp_real)
#undef CHAINRULE_TRACE_RECORD_INSTANTIATE

}  // namespace chainrule::trace
