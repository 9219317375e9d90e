// SPDX-License-Identifier: MIT
// Member definitions of chainrule::graph (included by graph.hpp; not a public entry point).
#pragma once

#include <utility>

namespace chainrule {

template <real_number Real>
graph<Real>::graph(unsigned digits) : digits_(scalar_traits<Real>::digits(digits)) {
  if constexpr (scalar_traits<Real>::has_runtime_precision) {
    if (digits < scalar_traits<Real>::min_digits || digits > scalar_traits<Real>::max_digits) {
      throw usage_error("precision of " + std::to_string(digits) + " digits is out of range " +
                        std::to_string(scalar_traits<Real>::min_digits) + ".." +
                        std::to_string(scalar_traits<Real>::max_digits));
    }
  }
  typename scalar_traits<Real>::precision_scope scope(digits_);
  arg_begin_.push_back(0);
  scratch_.assign(kernel_scratch + 1, scalar_traits<Real>::zero(digits_));
  units_ = {scalar_traits<Real>::zero(digits_), scalar_traits<Real>::from_decimal("1", digits_),
            scalar_traits<Real>::from_decimal("-1", digits_)};
}

template <real_number Real>
node_id graph<Real>::checked(const var<Real>& v) const {
  if (&v.owner() != this) throw usage_error("this node belongs to a different graph");
  return v.id();
}

template <real_number Real>
var<Real> graph<Real>::leaf(op kind, std::string_view name, std::string_view decimal) {
  typename scalar_traits<Real>::precision_scope scope(digits_);
  var<Real> v = leaf_value(kind, name, scalar_traits<Real>::from_decimal(decimal, digits_));
  set_source(static_cast<std::size_t>(v.id()), decimal);
  return v;
}

template <real_number Real>
var<Real> graph<Real>::leaf_value(op kind, std::string_view name, const Real& value) {
  if (!is_leaf(kind)) throw usage_error("a leaf must be an input, a parameter or a constant");
  if (!scalar_traits<Real>::is_finite(value)) throw usage_error("a leaf value must be finite");
  if (!name.empty() && by_name_.contains(name)) {
    throw usage_error("the name '" + std::string(name) + "' is already used in this graph");
  }
  if (ops_.size() >= std::numeric_limits<std::uint32_t>::max() - 1) {
    throw usage_error("the graph is full (2^32 nodes)");
  }
  typename scalar_traits<Real>::precision_scope scope(digits_);
  const auto id = static_cast<node_id>(ops_.size());
  ops_.push_back(kind);
  arg_begin_.push_back(static_cast<std::uint32_t>(args_.size()));
  values_.push_back(value);
  if constexpr (scalar_traits<Real>::has_runtime_precision) values_.back().precision(digits_);
  if (!name.empty()) set_name(id, name);
  return var<Real>(this, id);
}

template <real_number Real>
var<Real> graph<Real>::apply(op o, std::initializer_list<var<Real>> inputs) {
  return apply(o, std::span<const var<Real>>(inputs.begin(), inputs.size()));
}

template <real_number Real>
var<Real> graph<Real>::apply(op o, std::span<const var<Real>> inputs) {
  std::vector<node_id> ids;
  ids.reserve(inputs.size());
  for (const auto& v : inputs)
    ids.push_back(checked(v));
  return apply(o, std::span<const node_id>(ids));
}

template <real_number Real>
var<Real> graph<Real>::apply(op o, std::span<const node_id> inputs) {
  const op_info& meta = info(o);
  if (is_leaf(o)) throw usage_error("use input(), parameter() or constant() to make a leaf");
  const bool arity_ok =
      meta.arity < 0 ? !inputs.empty() : inputs.size() == static_cast<std::size_t>(meta.arity);
  if (!arity_ok) {
    throw usage_error(std::string(meta.name) + " takes " +
                      (meta.arity < 0 ? std::string("at least one input")
                                      : std::to_string(meta.arity) + " input(s)") +
                      ", not " + std::to_string(inputs.size()));
  }
  for (node_id in : inputs)
    at(in);
  if (o == op::powi) {
    const auto e = at(inputs[1]);
    if (ops_[e] != op::constant)
      throw usage_error("the exponent of an integer power must be a constant");
    const Real& n = values_[e];
    if (Real(scalar_traits<Real>::to_long(n)) != n)
      throw usage_error("the exponent of an integer power must be an integer");
  }
  if (ops_.size() >= std::numeric_limits<std::uint32_t>::max() - 1) {
    throw usage_error("the graph is full (2^32 nodes)");
  }
  typename scalar_traits<Real>::precision_scope scope(digits_);
  const std::size_t i = ops_.size();
  ops_.push_back(o);
  args_.insert(args_.end(), inputs.begin(), inputs.end());
  arg_begin_.push_back(static_cast<std::uint32_t>(args_.size()));
  partials_.resize(args_.size(), scratch_[0]);
  values_.push_back(scratch_[0]);
  try {
    evaluate(i);
  } catch (...) {
    // Leave the graph as it was before the call.
    ops_.pop_back();
    arg_begin_.pop_back();
    args_.resize(arg_begin_.back());
    partials_.resize(arg_begin_.back());
    values_.pop_back();
    throw;
  }
  return var<Real>(this, static_cast<node_id>(i));
}

template <real_number Real>
void graph<Real>::reserve(std::size_t nodes, std::size_t edges) {
  const std::size_t n = ops_.size() + nodes;
  const std::size_t e = args_.size() + edges;
  ops_.reserve(n);
  arg_begin_.reserve(n + 1);
  values_.reserve(n);
  args_.reserve(e);
  partials_.reserve(e);
}

template <real_number Real>
void graph<Real>::set_name(node_id id, std::string_view name) {
  const auto i = static_cast<std::uint32_t>(at(id));
  if (name.empty()) throw usage_error("a node name cannot be empty");
  auto found = by_name_.find(name);
  if (found != by_name_.end()) {
    if (found->second == id) return;
    throw usage_error("the name '" + std::string(name) + "' is already used by " +
                      describe(found->second));
  }
  if (auto old = names_.find(i); old != names_.end()) by_name_.erase(old->second);
  names_[i] = std::string(name);
  by_name_.emplace(std::string(name), id);
}

template <real_number Real>
std::string_view graph<Real>::name(node_id id) const {
  auto found = names_.find(static_cast<std::uint32_t>(at(id)));
  return found == names_.end() ? std::string_view{} : std::string_view(found->second);
}

template <real_number Real>
void graph<Real>::set_symbol(node_id id, std::string_view latex) {
  symbols_[static_cast<std::uint32_t>(at(id))] = std::string(latex);
}

template <real_number Real>
std::string_view graph<Real>::symbol(node_id id) const {
  auto found = symbols_.find(static_cast<std::uint32_t>(at(id)));
  return found == symbols_.end() ? std::string_view{} : std::string_view(found->second);
}

template <real_number Real>
std::optional<node_id> graph<Real>::find(std::string_view name) const {
  auto found = by_name_.find(name);
  if (found == by_name_.end()) return std::nullopt;
  return found->second;
}

template <real_number Real>
var<Real> graph<Real>::operator[](std::string_view name) {
  auto id = find(name);
  if (!id) throw usage_error("no node is named '" + std::string(name) + "'");
  return var<Real>(this, *id);
}

template <real_number Real>
void graph<Real>::set_value(node_id leaf, std::string_view decimal) {
  typename scalar_traits<Real>::precision_scope scope(digits_);
  set_value(leaf, scalar_traits<Real>::from_decimal(decimal, digits_));
  set_source(static_cast<std::size_t>(leaf), decimal);
}

// inline (like adjoint()) so that a training loop's calls are expanded in place despite the
// explicit instantiation in the library: at double a call costs as much as the work.
template <real_number Real>
inline void graph<Real>::set_value(node_id leaf, const Real& value) {
  const auto i = at(leaf);
  if (!is_leaf(ops_[i]))
    throw usage_error("only a leaf can be set; " + describe(leaf) + " is computed");
  if (!scalar_traits<Real>::is_finite(value)) throw usage_error("a leaf value must be finite");
  typename scalar_traits<Real>::precision_scope scope(digits_);
  values_[i] = value;
  // Rounding to the working precision is a no-op call to MPFR when the value already has it,
  // which is the usual case (a training loop computing at the graph's precision).
  if constexpr (scalar_traits<Real>::has_runtime_precision) {
    if (values_[i].precision() != digits_) values_[i].precision(digits_);
  }
  if (i < has_source_.size() && has_source_[i]) {
    decimal_sources_.erase(static_cast<std::uint32_t>(i));
    has_source_[i] = 0;
  }
}

template <real_number Real>
void graph<Real>::set_source(std::size_t i, std::string_view decimal) {
  decimal_sources_[static_cast<std::uint32_t>(i)] = std::string(decimal);
  if (has_source_.size() <= i) has_source_.resize(i + 1);
  has_source_[i] = 1;
}

template <real_number Real>
std::string_view graph<Real>::decimal_source(node_id leaf) const {
  auto found = decimal_sources_.find(static_cast<std::uint32_t>(at(leaf)));
  return found == decimal_sources_.end() ? std::string_view{} : std::string_view(found->second);
}

template <real_number Real>
std::string graph<Real>::describe(node_id id) const {
  const auto i = static_cast<std::size_t>(id);
  std::string where = "node " + std::to_string(i) + " (" + std::string(info(ops_[i]).name) + ")";
  const auto n = name(id);
  return n.empty() ? where : "'" + std::string(n) + "' (" + where + ")";
}

template <real_number Real>
void graph<Real>::fail(std::size_t i, std::string_view problem) const {
  const auto id = static_cast<node_id>(i);
  std::string message = std::string(problem) + " at " + describe(id);
  const auto in = inputs(id);
  std::string operands;
  for (std::size_t k = 0; k < in.size(); ++k) {
    if (k > 0) operands += ", ";
    operands += format(values_[static_cast<std::size_t>(in[k])], number_format::significant(17));
  }
  if (!in.empty()) message += (in.size() == 1 ? "; input " : "; inputs ") + operands;
  throw evaluation_error(message, static_cast<std::uint32_t>(i), std::string(problem), operands);
}

template <real_number Real>
void graph<Real>::evaluate(std::size_t i) {
  const std::uint32_t begin = arg_begin_[i];
  const std::uint32_t end = arg_begin_[i + 1];
  kernel_io<Real> io{values_.data(),
                     std::span<const node_id>(args_.data() + begin, end - begin),
                     values_[i],
                     partials_.data() + begin,
                     scratch_.data(),
                     units_.data(),
                     false};
  if (const char* problem = ops::evaluate(ops_[i], io)) fail(i, problem);
}

template <real_number Real>
void graph<Real>::forward() {
  typename scalar_traits<Real>::precision_scope scope(digits_);
  const std::size_t n = ops_.size();
  // The arrays' data pointers in locals: a kernel that calls a library function (exp, any MPFR
  // operation) would otherwise make the compiler reload every member for the next node.
  const op* const ops = ops_.data();
  const std::uint32_t* const arg_begin = arg_begin_.data();
  const node_id* const args = args_.data();
  Real* const values = values_.data();
  Real* const partials = partials_.data();
  Real* const scratch = scratch_.data();
  const Real* const units = units_.data();
  for (std::size_t i = 0; i < n; ++i) {
    const op o = ops[i];
    if (is_leaf(o)) continue;
    const std::uint32_t begin = arg_begin[i];
    const std::uint32_t end = arg_begin[i + 1];
    kernel_io<Real> io{values,    std::span<const node_id>(args + begin, end - begin),
                       values[i], partials + begin,
                       scratch,   units,
                       true};
    if (const char* problem = ops::evaluate(o, io)) fail(i, problem);
  }
}

template <real_number Real>
void graph<Real>::backward(node_id output) {
  const std::size_t root = at(output);
  typename scalar_traits<Real>::precision_scope scope(digits_);
  const std::size_t n = ops_.size();
  if (adjoints_.size() != n) adjoints_.resize(n, scratch_[0]);
  Real& product = scratch_[kernel_scratch];
  const auto overflowed = [&](std::size_t i) {
    gradient_root_.reset();
    return evaluation_error("the adjoint of " + describe(static_cast<node_id>(i)) +
                                " is not finite (the gradient overflowed)",
                            static_cast<std::uint32_t>(i));
  };
  if constexpr (scalar_traits<Real>::has_runtime_precision) {
    // A multiprecision addition costs as much as a multiplication, so an adjoint's first
    // contribution is assigned (acc = partial * a) rather than added to a zero, and partials that
    // are the constant 1 or -1 (add, sub, sum, ...) pass the adjoint on without multiplying. The
    // results are the plain sweep's: 0 + x = x, (+-1) * a = +-a, and a zero product is stored as
    // +0, as 0 + (-0) would be. Adjoints that get no contribution are zeroed when the sweep
    // reaches them.
    touched_.assign(n, 0);
    for (std::size_t i = root + 1; i < n; ++i)
      adjoints_[i] = 0;
    adjoints_[root] = units_[1];
    touched_[root] = 1;
    for (std::size_t i = root + 1; i-- > 0;) {
      Real& a = adjoints_[i];
      if (!touched_[i]) {
        a = 0;
        continue;
      }
      if (scalar_traits<Real>::is_zero(a)) continue;
      if (!scalar_traits<Real>::is_finite(a)) throw overflowed(i);
      const op o = ops_[i];
      const std::uint32_t begin = arg_begin_[i];
      const std::uint32_t end = arg_begin_[i + 1];
      for (std::uint32_t k = begin; k < end; ++k) {
        const auto to = static_cast<std::size_t>(args_[k]);
        const int unit = ops::unit_partial(o, k - begin);
        Real& acc = adjoints_[to];
        if (touched_[to]) {
          if (unit > 0) {
            acc += a;
          } else if (unit < 0) {
            acc -= a;
          } else {
            scalar_traits<Real>::add_product(acc, partials_[k], a, product);
          }
        } else {
          touched_[to] = 1;
          if (unit > 0) {
            acc = a;
          } else if (unit < 0) {
            acc = -a;
          } else {
            acc = partials_[k] * a;
            if (scalar_traits<Real>::is_zero(acc)) acc = 0;
          }
        }
      }
    }
  } else {
    for (auto& a : adjoints_)
      a = 0;
    adjoints_[root] = 1;
    for (std::size_t i = root + 1; i-- > 0;) {
      const Real& a = adjoints_[i];
      if (scalar_traits<Real>::is_zero(a)) continue;
      if (!scalar_traits<Real>::is_finite(a)) throw overflowed(i);
      const std::uint32_t end = arg_begin_[i + 1];
      for (std::uint32_t k = arg_begin_[i]; k < end; ++k) {
        scalar_traits<Real>::add_product(adjoints_[static_cast<std::size_t>(args_[k])],
                                         partials_[k], a, product);
      }
    }
  }
  gradient_root_ = output;
}

template <real_number Real>
inline const Real& graph<Real>::adjoint(node_id id) const {
  const auto i = at(id);
  if (!gradient_root_ || i >= adjoints_.size()) {
    throw usage_error("no gradient yet for " + describe(id) + ": call backward(output) first");
  }
  return adjoints_[i];
}

// ---- group functions ----

template <real_number Real>
var<Real> sum(std::span<const var<Real>> xs) {
  if (xs.empty()) throw usage_error("sum needs at least one term");
  return xs.front().owner().apply(op::sum, xs);
}

template <real_number Real>
var<Real> logsumexp(std::span<const var<Real>> xs) {
  if (xs.empty()) throw usage_error("logsumexp needs at least one term");
  return xs.front().owner().apply(op::logsumexp, xs);
}

template <real_number Real>
std::vector<var<Real>> softmax(std::span<const var<Real>> xs) {
  const var<Real> lse = logsumexp(xs);
  std::vector<var<Real>> out;
  out.reserve(xs.size());
  for (const auto& x : xs)
    out.push_back(x.owner().apply(op::softmax, {x, lse}));
  return out;
}

template <real_number Real>
std::vector<var<Real>> log_softmax(std::span<const var<Real>> xs) {
  const var<Real> lse = logsumexp(xs);
  std::vector<var<Real>> out;
  out.reserve(xs.size());
  for (const auto& x : xs)
    out.push_back(x.owner().apply(op::log_softmax, {x, lse}));
  return out;
}

}  // namespace chainrule
