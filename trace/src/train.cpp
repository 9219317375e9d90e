// SPDX-License-Identifier: MIT
#include "chainrule/trace/train.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "chainrule/engine/ops.hpp"
#include "recorder.hpp"

namespace chainrule::trace {

bool trace_selection::selects(std::uint64_t iteration, std::uint64_t total) const {
  if (all) return true;
  if (first && iteration == 1) return true;
  if (last && iteration == total) return true;
  if (every != 0 && iteration % every == 0) return true;
  return std::find(steps.begin(), steps.end(), iteration) != steps.end();
}

std::string trace_selection::describe() const {
  if (all) return "all";
  std::string out;
  const auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (first) add("first");
  if (last) add("last");
  if (every != 0) add("every " + std::to_string(every));
  for (auto s : steps)
    add(std::to_string(s));
  return out.empty() ? "none" : out;
}

std::uint64_t batches_per_epoch(std::uint64_t rows, std::uint64_t batch_size) noexcept {
  if (rows == 0 || batch_size == full_batch || batch_size >= rows) return 1;
  return (rows + batch_size - 1) / batch_size;
}

namespace {

// kernel_io gained a pointer to the constants 0, 1 and -1 in a later engine; fill it when present.
template <class Real>
kernel_io<Real> make_io(const Real* values, std::span<const node_id> inputs, Real& out,
                        Real* partial, Real* scratch, const Real* units) {
  if constexpr (requires { kernel_io<Real>{values, inputs, out, partial, scratch, units}; }) {
    return kernel_io<Real>{values, inputs, out, partial, scratch, units};
  } else {
    return kernel_io<Real>{values, inputs, out, partial, scratch};
  }
}

}  // namespace

template <real_number Real>
struct trainer<Real>::impl {
  using traits = scalar_traits<Real>;

  impl(graph<Real>& graph_ref, node_id loss_node, run_options opts);

  void step(std::uint64_t k, iteration* traced);
  /// One update from the rows of batch (k - 1) mod batches.
  void step_batch(std::uint64_t k, iteration* traced);
  /// Rows [first, first + count) of the batch update k uses.
  std::pair<std::size_t, std::size_t> batch_rows(std::uint64_t k) const;
  /// Forward and backward over rows [first, first + count), reduced into batch_loss and
  /// gradients; the graph is left with the last row's pass.
  /// `training`: an update's rows (before_batch_row is called), not the final evaluation pass.
  void accumulate(std::size_t first, std::size_t count, std::uint64_t k, bool training,
                  iteration* traced, batch_step* record);
  void set_row(std::uint64_t k);
  void set_row_index(std::size_t r);
  void update_simultaneous(iteration* traced);
  /// The simultaneous update from `gradients` as they are.
  void apply_gradients(iteration* traced);
  void update_sequential(iteration* traced);
  void update_perceptron(iteration* traced);
  /// Recomputes the partials of every node that consumes a parameter of layers [0, layer).
  void refresh_overrides(std::size_t layer);
  /// Reverse sweep from the loss with the overridden partials, into adjoints_.
  void sweep();
  void apply(std::size_t j, const Real& gradient);
  void record_update(iteration& it, std::size_t j, const std::vector<number>& before_lines,
                     const number& before_w, const number& gradient);
  optimizer_settings describe_optimizer() const;
  /// The objective's mean over the validation rows into val_loss; the graph's values of the
  /// validation columns are put back afterwards.
  void validate();

  graph<Real>& g;
  std::uint32_t loss;
  run_options options;
  detail::recorder<Real> rec;
  optimizer<Real> opt;
  std::vector<std::uint32_t> params;     // output layer first
  std::vector<std::size_t> layer_begin;  // groups of params with equal rank, plus the end
  std::vector<Real> gradients;
  Real value;
  Real error;
  std::vector<Real> history;
  std::uint64_t done = 0;
  bool ran = false;

  // Data rows.
  std::size_t columns = 0;
  std::size_t rows = 0;
  std::vector<Real> data;

  // Batches of more than one row.
  std::size_t batch = 1;
  std::uint64_t batches = 1;
  Real batch_loss;
  Real full_divisor;   // batch
  Real short_divisor;  // rows of the last, short batch (batch when there is none)

  // Sequential order: per node consuming a parameter, its inputs' values, partials and value.
  std::vector<std::uint32_t> slot_node;
  std::vector<std::uint32_t> slot_begin;
  std::vector<std::size_t> slot_layer;  // lowest layer among the parameters the node consumes
  std::vector<Real> slot_inputs;
  std::vector<Real> slot_partials;
  std::vector<Real> slot_out;
  std::vector<node_id> identity;
  std::vector<Real> kernel_scratch_;
  std::array<Real, 3> units;  // 0, 1, -1
  std::vector<const Real*> overrides;
  std::vector<Real> adjoints;
  Real product;

  // Validation.
  std::size_t val_columns = 0;
  std::size_t val_rows = 0;
  std::vector<Real> val_data;
  std::vector<Real> val_saved;  // the columns' values before a validation
  Real val_loss;
  Real val_divisor;
  std::uint64_t val_every = 0;

  // Perceptron.
  std::uint32_t output = detail::none;
  std::uint32_t target = detail::none;
  std::uint32_t net = detail::none;
};

template <real_number Real>
trainer<Real>::impl::impl(graph<Real>& graph_ref, node_id loss_node, run_options opts)
    : g(graph_ref),
      loss(static_cast<std::uint32_t>(loss_node)),
      options(std::move(opts)),
      rec(graph_ref, loss_node, options.record.targets, options.record.parameters,
          options.record.display, options.record.exact_digits),
      opt(options.optimizer, rec.parameters().size(), graph_ref.digits()),
      params(rec.parameters()) {
  typename traits::precision_scope scope(g.digits());
  const Real zero = traits::zero(g.digits());
  const std::size_t n = g.size();
  gradients.assign(params.size(), zero);
  value = zero;
  error = zero;
  product = zero;
  if (options.steps > static_cast<std::uint64_t>(history.max_size()) - 1) {
    throw usage_error("too many steps: " + std::to_string(options.steps));
  }
  history.assign(static_cast<std::size_t>(options.steps) + 1, zero);

  for (std::size_t j = 0; j < params.size(); ++j) {
    if (j == 0 || rec.rank(params[j]) != rec.rank(params[j - 1])) layer_begin.push_back(j);
  }
  layer_begin.push_back(params.size());

  // Data.
  columns = options.data.columns.size();
  if (columns == 0 && !options.data.values.empty())
    throw usage_error("training data has values but no columns");
  if (columns != 0) {
    if (options.data.values.size() % columns != 0 || options.data.values.empty()) {
      throw usage_error("training data has " + std::to_string(options.data.values.size()) +
                        " values, not a whole number of rows of " + std::to_string(columns));
    }
    for (node_id c : options.data.columns) {
      if (static_cast<std::size_t>(c) >= n || g.op_of(c) != op::input) {
        throw usage_error("a data column must be an input or target node; " +
                          (static_cast<std::size_t>(c) < n
                               ? g.describe(c)
                               : "node " + std::to_string(static_cast<std::size_t>(c))) +
                          " is not");
      }
    }
    rows = options.data.values.size() / columns;
    for (const auto& text : options.data.values)
      data.push_back(traits::from_decimal(text, g.digits()));
  }

  if (options.validation) {
    const training_data& v = options.validation->data;
    val_columns = v.columns.size();
    if (val_columns == 0 || v.values.empty() || v.values.size() % val_columns != 0)
      throw usage_error("validation data needs columns and whole rows");
    for (node_id c : v.columns) {
      if (static_cast<std::size_t>(c) >= n || g.op_of(c) != op::input)
        throw usage_error("a validation data column must be an input or target node");
    }
    val_rows = v.values.size() / val_columns;
    for (const auto& text : v.values)
      val_data.push_back(traits::from_decimal(text, g.digits()));
    val_saved.assign(val_columns, zero);
    val_loss = zero;
    val_divisor = traits::from_decimal(std::to_string(val_rows), g.digits());
  }

  if (options.batch_size != 1) {
    if (rows == 0) throw usage_error("batches need training data ('on DATA')");
    if (options.batch_size != full_batch && options.batch_size > rows) {
      throw usage_error("a batch of " + std::to_string(options.batch_size) +
                        " rows, but the data set has only " + std::to_string(rows) +
                        " (use 'batch full' for all of them)");
    }
    batch = options.batch_size == full_batch ? rows : static_cast<std::size_t>(options.batch_size);
  }
  batches = batches_per_epoch(rows, batch);
  if (options.validation) {
    val_every = options.validation->every != 0 ? options.validation->every : batches;
  }
  batch_loss = zero;
  full_divisor = traits::from_decimal(std::to_string(batch), g.digits());
  short_divisor = rows % batch == 0
                      ? full_divisor
                      : traits::from_decimal(std::to_string(rows % batch), g.digits());
  if (batch > 1 && opt.kind() == optimizer_kind::perceptron) {
    throw usage_error("the perceptron rule updates after every sample; it cannot use batches of " +
                      std::to_string(batch) + " rows (leave out the batch clause)");
  }
  if (batch > 1 && options.order == update_order::sequential) {
    throw usage_error(
        "sequential order recomputes one sample's gradients layer by layer; with batches of " +
        std::to_string(batch) + " rows use order simultaneous");
  }

  if (opt.kind() == optimizer_kind::perceptron) {
    for (std::uint32_t i = 0; i <= loss; ++i) {
      if (!rec.is_relevant(i)) continue;
      if (g.op_of(static_cast<node_id>(i)) == op::step) {
        if (output != detail::none) {
          throw usage_error(
              "the perceptron rule needs one step() output, but the loss depends on " +
              g.describe(static_cast<node_id>(output)) + " and " +
              g.describe(static_cast<node_id>(i)));
        }
        output = i;
      }
      if (rec.is_target(i)) {
        if (target != detail::none) {
          throw usage_error("the perceptron rule needs one target, but the loss depends on " +
                            g.describe(static_cast<node_id>(target)) + " and " +
                            g.describe(static_cast<node_id>(i)));
        }
        target = i;
      }
    }
    if (output == detail::none)
      throw usage_error("the perceptron rule needs a step() output upstream of the loss");
    if (target == detail::none) {
      throw usage_error(
          "the perceptron rule needs the desired output declared as a target upstream of the loss");
    }
    net = static_cast<std::uint32_t>(g.inputs(static_cast<node_id>(output))[0]);
  }

  if (options.order == update_order::sequential && opt.kind() != optimizer_kind::perceptron) {
    std::vector<std::size_t> layer_of(n, SIZE_MAX);
    for (std::size_t l = 0; l + 1 < layer_begin.size(); ++l) {
      for (std::size_t j = layer_begin[l]; j < layer_begin[l + 1]; ++j)
        layer_of[params[j]] = l;
    }
    std::size_t widest = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto ins = g.inputs(static_cast<node_id>(i));
      std::size_t lowest = SIZE_MAX;
      for (node_id in : ins)
        lowest = std::min(lowest, layer_of[static_cast<std::size_t>(in)]);
      if (lowest == SIZE_MAX) continue;
      slot_node.push_back(i);
      slot_layer.push_back(lowest);
      slot_begin.push_back(static_cast<std::uint32_t>(slot_inputs.size()));
      slot_inputs.resize(slot_inputs.size() + ins.size(), zero);
      widest = std::max(widest, ins.size());
    }
    slot_begin.push_back(static_cast<std::uint32_t>(slot_inputs.size()));
    slot_partials.assign(slot_inputs.size(), zero);
    slot_out.assign(slot_node.size(), zero);
    for (std::size_t k = 0; k < widest; ++k)
      identity.push_back(static_cast<node_id>(k));
    kernel_scratch_.assign(kernel_scratch + 1, zero);
    units = {zero, traits::from_decimal("1", g.digits()), traits::from_decimal("-1", g.digits())};
    overrides.assign(n, nullptr);
    adjoints.assign(n, zero);
  }
}

template <real_number Real>
void trainer<Real>::impl::set_row(std::uint64_t k) {
  if (rows == 0) return;
  set_row_index(static_cast<std::size_t>((k - 1) % rows));
}

template <real_number Real>
void trainer<Real>::impl::set_row_index(std::size_t r) {
  for (std::size_t c = 0; c < columns; ++c)
    g.set_value(options.data.columns[c], data[r * columns + c]);
}

template <real_number Real>
std::pair<std::size_t, std::size_t> trainer<Real>::impl::batch_rows(std::uint64_t k) const {
  const auto first = static_cast<std::size_t>((k - 1) % batches) * batch;
  return {first, std::min(batch, rows - first)};
}

template <real_number Real>
void trainer<Real>::impl::accumulate(std::size_t first, std::size_t count, std::uint64_t k,
                                     bool training, iteration* traced, batch_step* record) {
  batch_loss = 0;
  for (auto& gradient : gradients)
    gradient = 0;
  for (std::size_t r = first; r < first + count; ++r) {
    set_row_index(r);
    if (training && options.before_batch_row) options.before_batch_row(k, r - first);
    g.forward();
    g.backward(static_cast<node_id>(loss));
    // The first row's pass stands for the batch in the worked example; the rows table adds up
    // all of them.
    if (traced && r == first) *traced = rec.record(detail::graph_view(g, loss), k);
    batch_loss += g.value(static_cast<node_id>(loss));
    for (std::size_t j = 0; j < params.size(); ++j)
      gradients[j] += g.adjoint(static_cast<node_id>(params[j]));
    if (record) {
      batch_row row;
      row.row = r + 1;
      row.loss = rec.num(g.value(static_cast<node_id>(loss)));
      for (std::size_t j = 0; j < params.size(); ++j)
        row.gradients.push_back(rec.num(g.adjoint(static_cast<node_id>(params[j]))));
      record->rows.push_back(std::move(row));
    }
  }
  if (options.reduction == batch_reduction::mean) {
    const Real& divisor = count == batch ? full_divisor : short_divisor;
    batch_loss /= divisor;
    for (auto& gradient : gradients)
      gradient /= divisor;
  }
  if (record) {
    record->loss = rec.num(batch_loss);
    for (const auto& gradient : gradients)
      record->gradients.push_back(rec.num(gradient));
  }
}

template <real_number Real>
void trainer<Real>::impl::step_batch(std::uint64_t k, iteration* traced) {
  const auto [first, count] = batch_rows(k);
  batch_step record;
  accumulate(first, count, k, true, traced, traced ? &record : nullptr);
  if (k <= history.size()) history[static_cast<std::size_t>(k - 1)] = batch_loss;
  if (traced) traced->batch = std::move(record);
  opt.begin_step();
  apply_gradients(traced);
}

template <real_number Real>
void trainer<Real>::impl::apply(std::size_t j, const Real& gradient) {
  const auto p = static_cast<node_id>(params[j]);
  value = g.value(p);
  opt.update(j, value, gradient);
  g.set_value(p, value);
}

template <real_number Real>
void trainer<Real>::impl::step(std::uint64_t k, iteration* traced) {
  typename traits::precision_scope scope(g.digits());
  if (options.before_update) options.before_update(k);
  if (batch > 1) {
    step_batch(k, traced);
    return;
  }
  set_row(k);
  g.forward();
  if (k <= history.size())
    history[static_cast<std::size_t>(k - 1)] = g.value(static_cast<node_id>(loss));
  if (opt.kind() == optimizer_kind::perceptron) {
    update_perceptron(traced);
  } else {
    g.backward(static_cast<node_id>(loss));
    if (traced) *traced = rec.record(detail::graph_view(g, loss), k);
    opt.begin_step();
    if (options.order == update_order::sequential) {
      update_sequential(traced);
    } else {
      update_simultaneous(traced);
    }
  }
  if (traced && rows > 1) {
    // The row and the masks are still in the graph: the same pass with the new parameters. If
    // that pass cannot be computed (log 0 after the update) the worked example does without it;
    // training goes on from the next row, which computes every value again.
    try {
      g.forward();
      traced->row_loss_after = rec.num(g.value(static_cast<node_id>(loss)));
    } catch (const evaluation_error&) {
      traced->row_loss_after.reset();
    }
  }
}

template <real_number Real>
void trainer<Real>::impl::update_simultaneous(iteration* traced) {
  for (std::size_t j = 0; j < params.size(); ++j)
    gradients[j] = g.adjoint(static_cast<node_id>(params[j]));
  apply_gradients(traced);
}

template <real_number Real>
void trainer<Real>::impl::apply_gradients(iteration* traced) {
  for (std::size_t j = 0; j < params.size(); ++j) {
    if (!traced) {
      apply(j, gradients[j]);
      continue;
    }
    std::vector<number> before;
    for (std::size_t l = 0; l < opt.description().rule.size(); ++l)
      before.push_back(rec.num(opt.line_value(j, l)));
    const number w = rec.num(g.value(static_cast<node_id>(params[j])));
    apply(j, gradients[j]);
    record_update(*traced, j, before, w, rec.num(gradients[j]));
  }
}

template <real_number Real>
void trainer<Real>::impl::refresh_overrides(std::size_t layer) {
  for (std::size_t s = 0; s < slot_node.size(); ++s) {
    if (slot_layer[s] >= layer) continue;
    const auto node = static_cast<node_id>(slot_node[s]);
    const auto ins = g.inputs(node);
    Real* in = slot_inputs.data() + slot_begin[s];
    Real* partial = slot_partials.data() + slot_begin[s];
    for (std::size_t k = 0; k < ins.size(); ++k)
      in[k] = g.value(ins[k]);
    kernel_io<Real> io = make_io(in, std::span<const node_id>(identity.data(), ins.size()),
                                 slot_out[s], partial, kernel_scratch_.data(), units.data());
    if (const char* problem = ops::kernels<Real>[static_cast<std::size_t>(g.op_of(node))](io)) {
      throw evaluation_error(std::string(problem) + " at " + g.describe(node) +
                                 " while recomputing its partials with updated weights",
                             slot_node[s]);
    }
    overrides[slot_node[s]] = partial;
  }
}

template <real_number Real>
void trainer<Real>::impl::sweep() {
  for (std::size_t i = 0; i <= loss; ++i)
    adjoints[i] = 0;
  adjoints[loss] = 1;
  for (std::size_t i = loss + 1; i-- > 0;) {
    if (traits::is_zero(adjoints[i])) continue;
    const auto node = static_cast<node_id>(i);
    const auto ins = g.inputs(node);
    const Real* partial = overrides[i] != nullptr ? overrides[i] : g.partials(node).data();
    for (std::size_t k = 0; k < ins.size(); ++k) {
      traits::add_product(adjoints[static_cast<std::size_t>(ins[k])], partial[k], adjoints[i],
                          product);
    }
  }
}

template <real_number Real>
void trainer<Real>::impl::update_sequential(iteration* traced) {
  for (std::size_t layer = 0; layer + 1 < layer_begin.size(); ++layer) {
    const std::size_t begin = layer_begin[layer];
    const std::size_t end = layer_begin[layer + 1];
    if (layer == 0) {
      for (std::size_t j = begin; j < end; ++j)
        gradients[j] = g.adjoint(static_cast<node_id>(params[j]));
    } else {
      refresh_overrides(layer);
      sweep();
      for (std::size_t j = begin; j < end; ++j)
        gradients[j] = adjoints[params[j]];
      if (traced) {
        detail::view<Real> v;
        v.g = &g;
        v.partial_override = overrides;
        v.adjoints = adjoints.data();
        v.has_gradients = true;
        std::vector<gradient_step> steps =
            rec.chain_steps(v, std::span<const std::uint32_t>(params.data() + begin, end - begin));
        const auto offset = static_cast<std::uint32_t>(traced->recomputed.size());
        for (auto& s : steps) {
          for (auto& f : s.factors) {
            if (f.defined_by) *f.defined_by += offset;
          }
          traced->recomputed.push_back(std::move(s));
        }
      }
    }
    for (std::size_t j = begin; j < end; ++j) {
      if (!traced) {
        apply(j, gradients[j]);
        continue;
      }
      std::vector<number> before;
      for (std::size_t l = 0; l < opt.description().rule.size(); ++l)
        before.push_back(rec.num(opt.line_value(j, l)));
      const number w = rec.num(g.value(static_cast<node_id>(params[j])));
      apply(j, gradients[j]);
      record_update(*traced, j, before, w, rec.num(gradients[j]));
    }
  }
  for (auto& o : overrides)
    o = nullptr;
}

template <real_number Real>
void trainer<Real>::impl::update_perceptron(iteration* traced) {
  const auto net_id = static_cast<node_id>(net);
  // x = d net / d w: the input feeding each weight (1 for a bias), whatever shape net has.
  g.backward(net_id);
  if (traced) *traced = rec.record(detail::graph_view(g, loss), 0);
  opt.begin_step();
  error = g.value(static_cast<node_id>(target));
  error -= g.value(static_cast<node_id>(output));
  for (std::size_t j = 0; j < params.size(); ++j) {
    const auto p = static_cast<node_id>(params[j]);
    const number w = traced ? rec.num(g.value(p)) : number{};
    value = g.value(p);
    opt.update_perceptron(j, value, error, g.adjoint(p));
    g.set_value(p, value);
    if (traced) record_update(*traced, j, {}, w, {});
  }
}

template <real_number Real>
void trainer<Real>::impl::validate() {
  typename traits::precision_scope scope(g.digits());
  const std::vector<node_id>& cols = options.validation->data.columns;
  for (std::size_t c = 0; c < val_columns; ++c)
    val_saved[c] = g.value(cols[c]);
  if (options.before_evaluation) options.before_evaluation();
  val_loss = 0;
  for (std::size_t r = 0; r < val_rows; ++r) {
    for (std::size_t c = 0; c < val_columns; ++c)
      g.set_value(cols[c], val_data[r * val_columns + c]);
    g.forward();
    val_loss += g.value(static_cast<node_id>(loss));
  }
  val_loss /= val_divisor;
  for (std::size_t c = 0; c < val_columns; ++c)
    g.set_value(cols[c], val_saved[c]);
}

template <real_number Real>
optimizer_settings trainer<Real>::impl::describe_optimizer() const {
  optimizer_settings s;
  const optimizer_description& d = opt.description();
  s.name = std::string(d.name);
  for (std::size_t i = 0; i < d.hyper.size(); ++i) {
    s.hyper.push_back({std::string(d.hyper[i].name), std::string(d.hyper[i].text),
                       std::string(d.hyper[i].latex), rec.num(opt.hyper(i)),
                       std::string(opt.hyper_source(i))});
  }
  for (const auto& line : d.rule) {
    detail::expression_builder b;
    std::vector<std::uint32_t> stack;
    for (const rule_token& t : line.rhs) {
      if (t.what == rule_token::kind::literal) {
        stack.push_back(b.literal(std::string(t.text)));
      } else if (t.what == rule_token::kind::operation) {
        const auto arity = static_cast<std::size_t>(info(t.operation).arity);
        std::vector<std::uint32_t> args(stack.end() - static_cast<std::ptrdiff_t>(arity),
                                        stack.end());
        stack.resize(stack.size() - arity);
        stack.push_back(b.apply(t.operation, std::move(args)));
      } else {
        std::string text(t.text);
        std::string latex(t.text);
        number v;
        for (std::size_t i = 0; i < d.hyper.size(); ++i) {
          if (d.hyper[i].name == t.text) {
            text = std::string(d.hyper[i].text);
            latex = std::string(d.hyper[i].latex);
            v = rec.num(opt.hyper(i));
          }
        }
        for (const auto& other : d.rule) {
          if (other.lhs == t.text) latex = std::string(other.lhs_latex);
        }
        stack.push_back(b.symbol(std::move(text), std::move(latex), std::move(v)));
      }
    }
    rule_line r;
    r.lhs_text = std::string(line.lhs);
    r.lhs_latex = std::string(line.lhs_latex);
    r.rhs = b.extract(stack.back());
    s.rule.push_back(std::move(r));
  }
  return s;
}

template <real_number Real>
void trainer<Real>::impl::record_update(iteration& it, std::size_t j,
                                        const std::vector<number>& before_lines,
                                        const number& before_w, const number& gradient) {
  const optimizer_description& d = opt.description();
  const std::uint32_t p = params[j];
  const auto pid = static_cast<node_id>(p);
  quantity info_q;
  info_q.name = std::string(g.name(pid));
  info_q.symbol = std::string(g.symbol(pid));
  const std::string pname = info_q.name.empty() ? "#" + std::to_string(p) : info_q.name;
  const std::string psym = detail::latex_symbol(info_q, p);

  parameter_update u;
  u.parameter = p;
  u.gradient = gradient;
  expression x_form;
  if (opt.kind() == optimizer_kind::perceptron) x_form = rec.local_partial_form(net, p);

  for (std::size_t l = 0; l < d.rule.size(); ++l) {
    const rule_line_description& line = d.rule[l];
    const bool is_w = l + 1 == d.rule.size();
    detail::expression_builder b;
    std::vector<std::uint32_t> stack;
    for (const rule_token& t : line.rhs) {
      if (t.what == rule_token::kind::literal) {
        stack.push_back(b.literal(std::string(t.text)));
        continue;
      }
      if (t.what == rule_token::kind::operation) {
        const auto arity = static_cast<std::size_t>(info(t.operation).arity);
        std::vector<std::uint32_t> args(stack.end() - static_cast<std::ptrdiff_t>(arity),
                                        stack.end());
        stack.resize(stack.size() - arity);
        stack.push_back(b.apply(t.operation, std::move(args)));
        continue;
      }
      const std::string_view name = t.text;
      if (name == "w") {
        stack.push_back(b.quantity(p));
      } else if (name == "g") {
        stack.push_back(b.derivative(loss, p, gradient));
      } else if (name == "t") {
        stack.push_back(b.symbol("t", "t", rec.num(opt.step_number())));
      } else if (name == "d") {
        stack.push_back(b.quantity(target));
      } else if (name == "y") {
        stack.push_back(b.quantity(output));
      } else if (name == "x") {
        if (!x_form.empty()) {
          stack.push_back(b.append(x_form));
        } else {
          stack.push_back(b.symbol("x_" + pname, "x_{" + psym + "}",
                                   rec.num(g.adjoint(static_cast<node_id>(net)))));
        }
      } else {
        bool found = false;
        for (std::size_t i = 0; i < d.hyper.size() && !found; ++i) {
          if (d.hyper[i].name == name) {
            stack.push_back(b.symbol(std::string(d.hyper[i].text), std::string(d.hyper[i].latex),
                                     rec.num(opt.hyper(i))));
            found = true;
          }
        }
        for (std::size_t other = 0; other < d.rule.size() && !found; ++other) {
          if (d.rule[other].lhs != name) continue;
          // An earlier line's new value, or this line's own previous value.
          const number v = other < l ? rec.num(opt.line_value(j, other)) : before_lines.at(other);
          stack.push_back(b.symbol(std::string(name) + "_" + pname,
                                   std::string(d.rule[other].lhs_latex) + "_{" + psym + "}", v));
          found = true;
        }
        if (!found)
          throw usage_error("optimizer rule uses an unknown name '" + std::string(name) + "'");
      }
    }
    std::vector<std::int64_t> sources;
    assignment a;
    a.rhs = b.extract(stack.back(), &sources);
    for (std::size_t i = 0; i < a.rhs.nodes.size(); ++i) {
      expr_node& node = a.rhs.nodes[i];
      if (node.kind == expr_kind::quantity && sources[i] >= 0) {
        node.value =
            node.quantity == p ? before_w : rec.num(g.value(static_cast<node_id>(node.quantity)));
      } else if (node.kind == expr_kind::literal && node.value.empty()) {
        node.value = rec.num(traits::from_decimal(node.text, g.digits()));
      }
    }
    a.is_parameter = is_w;
    if (is_w) {
      a.lhs_text = pname + "+";
      a.lhs_latex = psym + "^{+}";
      a.before = before_w;
      a.value = rec.num(g.value(pid));
    } else {
      a.lhs_text = std::string(line.lhs) + "_" + pname;
      a.lhs_latex = std::string(line.lhs_latex) + "_{" + psym + "}";
      if (line.persistent) a.before = before_lines.at(l);
      a.value = rec.num(opt.line_value(j, l));
    }
    u.lines.push_back(std::move(a));
  }
  it.updates.push_back(std::move(u));
}

template <real_number Real>
trainer<Real>::trainer(graph<Real>& g, node_id loss, run_options options)
    : impl_(std::make_unique<impl>(g, loss, std::move(options))) {}

template <real_number Real>
trainer<Real>::~trainer() = default;

template <real_number Real>
void trainer<Real>::step() {
  impl& m = *impl_;
  ++m.done;
  m.step(m.done, nullptr);
}

template <real_number Real>
document trainer<Real>::run() {
  impl& m = *impl_;
  if (m.ran) throw usage_error("a trainer runs once: make a new one for another run");
  m.ran = true;
  const run_options& o = m.options;
  document doc = m.rec.model(o.record);
  doc.config.optimizer = m.describe_optimizer();
  doc.config.update_order = o.order == update_order::sequential ? "sequential" : "simultaneous";
  doc.config.steps = o.steps;
  doc.config.traced_description = o.trace.describe();
  doc.config.data_rows = m.rows;
  doc.config.batch_size = m.batch;
  doc.config.batch_reduction = o.reduction == batch_reduction::mean ? "mean" : "sum";
  const std::uint64_t progress_every =
      o.progress_every != 0 ? o.progress_every : std::max<std::uint64_t>(1, o.steps / 100);

  using traits = typename impl::traits;
  const bool validating = o.validation.has_value();
  const std::uint64_t patience = validating ? o.validation->patience : 0;
  std::optional<validation_run> run_validation;
  std::optional<Real> best;
  std::vector<Real> best_params;
  std::vector<Real> saved_params;
  std::optional<optimizer<Real>> saved_optimizer;
  std::uint64_t since_best = 0;
  if (validating) {
    run_validation.emplace();
    run_validation->data_set = o.validation->data_set;
    run_validation->rows = m.val_rows;
    run_validation->every = m.val_every;
    run_validation->patience = patience;
    run_validation->restore_best = o.validation->restore_best;
    run_validation->planned_steps = o.steps;
  }

  std::uint64_t made = o.steps;
  for (std::uint64_t k = 1; k <= o.steps; ++k) {
    const bool traced = o.trace.selects(k, o.steps);
    const bool validates = validating && k % m.val_every == 0;
    // This update ends training if its validation does not improve either: keep what it
    // starts from, so that `trace last` can show it (see validation_options).
    const bool may_stop = validates && patience != 0 && since_best + 1 == patience &&
                          k != o.steps && o.trace.last && !traced;
    if (may_stop) {
      typename traits::precision_scope scope(m.g.digits());
      saved_params.clear();
      for (const std::uint32_t p : m.params)
        saved_params.push_back(m.g.value(static_cast<node_id>(p)));
      saved_optimizer = m.opt;
    }
    if (traced) {
      doc.config.traced.push_back(k);
      iteration it;
      m.step(k, &it);
      it.index = k;
      doc.iterations.push_back(std::move(it));
    } else {
      m.step(k, nullptr);
    }
    if (o.on_progress && (k % progress_every == 0 || k == o.steps)) {
      o.on_progress(k, o.steps, m.rec.num(m.history[static_cast<std::size_t>(k - 1)]).shown);
    }
    if (!validates) continue;

    typename traits::precision_scope scope(m.g.digits());
    m.validate();
    validation_point point;
    point.update = k;
    point.epoch = m.rows == 0 ? 0 : (k + m.batches - 1) / m.batches;
    Real mean = traits::zero(m.g.digits());
    for (std::uint64_t j = k - m.val_every; j < k; ++j)
      mean += m.history[static_cast<std::size_t>(j)];
    mean /= traits::from_decimal(std::to_string(m.val_every), m.g.digits());
    point.training_loss = m.rec.num(mean);
    point.validation_loss = m.rec.num(m.val_loss);
    point.best = !best || m.val_loss < *best;
    if (point.best) {
      best = m.val_loss;
      since_best = 0;
      run_validation->best_update = k;
      run_validation->best_loss = point.validation_loss;
      if (o.validation->restore_best) {
        best_params.clear();
        for (const std::uint32_t p : m.params)
          best_params.push_back(m.g.value(static_cast<node_id>(p)));
      }
    } else {
      ++since_best;
    }
    run_validation->history.push_back(std::move(point));
    if (patience != 0 && since_best >= patience && k != o.steps) {
      made = k;
      run_validation->stopped_early = true;
      if (may_stop) {
        // The same update again, traced, from the same parameters and optimizer state.
        for (std::size_t j = 0; j < m.params.size(); ++j)
          m.g.set_value(static_cast<node_id>(m.params[j]), saved_params[j]);
        m.opt = *saved_optimizer;
        doc.config.traced.push_back(k);
        iteration it;
        m.step(k, &it);
        it.index = k;
        doc.iterations.push_back(std::move(it));
      }
      // The progress display's last report is the update training stopped after.
      if (o.on_progress && k % progress_every != 0)
        o.on_progress(k, o.steps, m.rec.num(m.history[static_cast<std::size_t>(k - 1)]).shown);
      break;
    }
  }
  m.done = made;
  doc.config.steps = made;
  {
    typename impl::traits::precision_scope scope(m.g.digits());
    if (run_validation && o.validation->restore_best && run_validation->best_update != 0 &&
        run_validation->best_update != made) {
      for (std::size_t j = 0; j < m.params.size(); ++j)
        m.g.set_value(static_cast<node_id>(m.params[j]), best_params[j]);
      run_validation->restored = true;
    }
    if (o.before_evaluation) o.before_evaluation();
    if (m.batch > 1) {
      // The last batch again, with the final parameters.
      const auto [first, count] = m.batch_rows(made);
      m.accumulate(first, count, made, false, nullptr, nullptr);
      m.history[static_cast<std::size_t>(made)] = m.batch_loss;
    } else {
      m.g.forward();
      m.history[static_cast<std::size_t>(made)] = m.g.value(static_cast<node_id>(m.loss));
    }
  }
  doc.validation = std::move(run_validation);
  doc.final_state = m.rec.take_snapshot();
  doc.final_steps = m.rec.forward_steps();
  doc.loss_history.reserve(static_cast<std::size_t>(made) + 1);
  for (std::size_t k = 0; k <= static_cast<std::size_t>(made); ++k)
    doc.loss_history.push_back({k, m.rec.num(m.history[k])});
  return doc;
}

template <real_number Real>
document run(graph<Real>& g, node_id loss, const run_options& options) {
  return trainer<Real>(g, loss, options).run();
}

template class trainer<double>;
template class trainer<mp_real>;
template document run<double>(graph<double>&, node_id, const run_options&);
template document run<mp_real>(graph<mp_real>&, node_id, const run_options&);

}  // namespace chainrule::trace
