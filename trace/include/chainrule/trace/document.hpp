// SPDX-License-Identifier: MIT
// The trace document: everything an exporter needs to write a worked backpropagation example, as
// plain data. No templates, no engine types, every number already turned into decimal text.
//
// Exporters (LaTeX, text, Graphviz, JSON) read only this header, so its layout is a contract: add
// fields, never change the meaning of one without bumping `schema_version`. docs/trace.md explains
// every field with Mazur's 2-2-2 example.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chainrule::trace {

/// Bumped whenever a field changes meaning or disappears (adding a field does not bump it).
inline constexpr int schema_version = 1;

/// Index into document::quantities (equal to the engine node id the quantity was recorded from).
using quantity_index = std::uint32_t;

/// A number as printed. `exact` carries the value at full working precision (as many significant
/// digits as the graph has, or 17 for double), `shown` is the same value rounded by the display
/// setting (settings::display). Both are plain decimal text ("0.35891648", "-1.5e-12"); both are
/// empty when the value does not exist (for example a gradient before any backward pass).
struct number {
  std::string exact;
  std::string shown;

  bool empty() const { return exact.empty(); }
  friend bool operator==(const number&, const number&) = default;
};

// ---------------------------------------------------------------------------------------------
// Expressions

/// How an operation is written (a copy of chainrule::notation, so exporters need no engine header).
enum class layout : std::uint8_t { leaf, prefix, infix, function };

/// What an expression node is.
enum class expr_kind : std::uint8_t {
  quantity,    ///< a named quantity of the model (`quantity` says which)
  derivative,  ///< the derivative d(of)/d(quantity), e.g. dE_total/dw5 in an update formula
  symbol,   ///< a name that is not a graph node: a hyper-parameter (eta) or optimizer state (v_w5)
  literal,  ///< a number written in the formula (the 1/2 and the 2 of 1/2 (t - y)^2)
  apply,    ///< an operation applied to other expression nodes
};

/// One node of an expression tree.
///
/// Templates (`text`, `latex` of an apply node) use the engine's placeholders: `#1`, `#2`, ... are
/// `args[0]`, `args[1]`, ...; `#0` is `self` (the node the template belongs to, used by derivative
/// templates such as sigmoid's `#0*(1 - #0)`); `#k` is `args[selected]`; `#*` is all args separated
/// by ", ". Parenthesise an argument when its own precedence is lower than the template's
/// (`precedence`, 1 = additive .. 5 = atom, as chainrule::precedence), or equal on the right of a
/// non-commutative infix operator (`-`, `/`, `^`).
struct expr_node {
  expr_kind kind = expr_kind::literal;
  /// quantity: the quantity; derivative: the variable differentiated with respect to.
  quantity_index quantity = 0;
  /// derivative only: the quantity being differentiated (usually the loss).
  quantity_index of = 0;
  /// symbol: its plain-text name ("eta", "v_w5"); literal: the number as written ("0.5", "2");
  /// apply: the plain-text template ("#1 - #2").
  std::string text;
  /// symbol: its LaTeX name ("\\eta", "v_{w5}"); apply: the LaTeX template ("\\frac{#1}{#2}").
  /// Empty for literals (write `text`).
  std::string latex;
  /// apply: the operation's name as in the engine's op table ("sub", "sigmoid"), or, for a
  /// derivative template that is not itself an op, the op name followed by "'" ("relu'").
  std::string op;
  layout notation = layout::leaf;
  int precedence = 5;
  /// apply: the inputs (#1, #2, ...), as indices into the owning expression::nodes.
  std::vector<std::uint32_t> args;
  /// apply: what `#0` stands for, if the template uses it.
  std::optional<std::uint32_t> self;
  /// apply: which of `args` `#k` stands for, if the template uses it.
  std::optional<std::uint32_t> selected;
  /// The value to substitute for this node when writing the formula "with numbers". Filled in
  /// expressions that belong to one iteration (forward steps, chain factors, updates) for every
  /// quantity, derivative, symbol and literal node, and for apply nodes whose value is known; empty
  /// in the static formulas of document::quantities.
  number value;

  friend bool operator==(const expr_node&, const expr_node&) = default;
};

/// An expression tree stored flat, children before parents: nodes.back() is the root, and a single
/// front-to-back pass renders it without recursion. Empty when there is no formula.
struct expression {
  std::vector<expr_node> nodes;

  bool empty() const { return nodes.empty(); }
  std::uint32_t root() const { return static_cast<std::uint32_t>(nodes.size() - 1); }
  friend bool operator==(const expression&, const expression&) = default;
};

// ---------------------------------------------------------------------------------------------
// The model: what does not change from one iteration to the next

enum class quantity_kind : std::uint8_t {
  input,      ///< data fed in (features)
  target,     ///< data fed in that the loss compares against (t1, t2)
  parameter,  ///< trainable
  constant,   ///< fixed number: a named constant (b1) or a literal (the 2 in (t - y)^2)
  computed,   ///< computed from other quantities
  loss,       ///< the quantity being minimised (E_total)
};

/// One node of the computational graph. Named quantities and leaves are shown in worked examples;
/// unnamed computed nodes are intermediates folded into the named quantity that consumes them.
struct quantity {
  /// As in the model ("net_h1"); empty for an unnamed intermediate or literal.
  std::string name;
  /// LaTeX symbol if the model gave one ("net_{h1}"); empty means "derive it from name".
  std::string symbol;
  quantity_kind kind = quantity_kind::computed;
  /// The engine op's name ("add", "sigmoid", "input", "param", "const").
  std::string op;
  /// For an unnamed intermediate or literal constant: the named quantity whose formula contains
  /// it (the first named quantity downstream). Empty for quantities shown in their own right.
  std::optional<quantity_index> folded_into;
  /// Layer hint for drawing: computed quantities sit one rank above their deepest input; leaves
  /// sit one rank before their first consumer. Mazur's net: i, w1..w4, b1 at 0; net_h 1; out_h 2
  /// (with w5..w8, b2); net_o 3; out_o 4 (with t1, t2); E_o 5; E_total 6.
  std::uint32_t rank = 0;
  /// The formula in symbols down to named quantities, leaves and literals ("w1*i1 + w2*i2 + b1");
  /// empty for leaves. Static: node values are empty here.
  expression formula;
  /// Declared decimal text of a leaf as given by the model ("0.15"); empty otherwise.
  std::string source;

  /// True if exporters show this quantity in its own right (not folded into another).
  bool shown() const { return !folded_into.has_value(); }
  friend bool operator==(const quantity&, const quantity&) = default;
};

/// An edge between two shown quantities (`edges`) or two engine nodes (`engine_edges`): `to`
/// consumes `from`. Values of its local partial d(to)/d(from) are per iteration
/// (iteration::edge_partials / engine_edge_partials).
struct edge {
  quantity_index from = 0;
  quantity_index to = 0;
  /// d(to)/d(from) in symbols (empty for engine edges: exporters use the op's partial template).
  expression partial;

  friend bool operator==(const edge&, const edge&) = default;
};

// ---------------------------------------------------------------------------------------------
// Settings

/// How `number::shown` was produced.
struct display_format {
  bool significant = false;  ///< false: `count` decimals after the point; true: significant digits
  int count = 9;
  std::string rounding = "half_even";  ///< "half_even", "half_up" or "toward_zero"
  bool strip_trailing_zeros = true;
  /// Larger numbers are shown with this many significant digits (number_format::max_significant);
  /// 0: no limit.
  int max_significant = 0;
  std::string description;  ///< "9 decimals", "12 significant digits"

  friend bool operator==(const display_format&, const display_format&) = default;
};

/// One hyper-parameter of the optimizer (learning rate, momentum, ...).
struct hyper_parameter {
  std::string name;   ///< "lr", "beta1", "eps"
  std::string text;   ///< plain-text symbol: "eta", "beta1"
  std::string latex;  ///< "\\eta", "\\beta_1"
  number value;       ///< value.exact is at working precision; `source` is the text given
  std::string source;

  friend bool operator==(const hyper_parameter&, const hyper_parameter&) = default;
};

/// One line of an optimizer's update rule in general form ("v <- beta v + g"), with symbols only.
struct rule_line {
  std::string lhs_text;   ///< "v", "w"
  std::string lhs_latex;  ///< "v", "w"
  expression rhs;

  friend bool operator==(const rule_line&, const rule_line&) = default;
};

struct optimizer_settings {
  std::string name;  ///< "sgd", "momentum", "rmsprop", "adagrad", "adam", "perceptron"
  std::vector<hyper_parameter> hyper;
  /// The update rule per parameter in general form, in the order it is applied; the last line
  /// updates the parameter. Every name in these lines is a symbol node: "w" the parameter, "g" the
  /// gradient dE/dw, "t" the step number, the hyper-parameters (with their values) and the state
  /// lines' left-hand sides; the perceptron's "d" (target), "y" (output), "x" (input of w).
  std::vector<rule_line> rule;

  friend bool operator==(const optimizer_settings&, const optimizer_settings&) = default;
};

struct settings {
  std::string precision;  ///< "50 digits" or "double"
  unsigned digits = 0;    ///< significant decimal digits of `number::exact` (17 for double)
  display_format display;
  optimizer_settings optimizer;
  std::string update_order = "simultaneous";  ///< or "sequential"
  std::uint64_t steps = 0;  ///< number of updates made (fewer than asked when stopped early)
  /// Which iterations were traced in full, as asked ("first, last, every 100") and as done
  /// (the iteration numbers, 1-based, ascending).
  std::string traced_description;
  std::vector<std::uint64_t> traced;
  /// Rows of training data (0 without a data set), rows per update (1: per sample; the last
  /// batch of a pass may be shorter) and how a batch's gradients and losses combine ("sum" or
  /// "mean").
  std::uint64_t data_rows = 0;
  std::uint64_t batch_size = 1;
  std::string batch_reduction = "sum";
  /// Empty unless the numbers were certified (`chainrule run --certify`, docs/certify.md): then
  /// how, e.g. "every number shown agrees between runs at 17 and 34 significant digits". A shown
  /// number whose last digits could not be certified ends with "…" (U+2026) after the digits that
  /// could, before any exponent: "0.12…", "4.2…e-18"; `exact` is then still the most precise
  /// run's value.
  std::string certification;

  friend bool operator==(const settings&, const settings&) = default;
};

// ---------------------------------------------------------------------------------------------
// One iteration

/// Values of every quantity after one forward pass.
struct snapshot {
  std::vector<number> values;  ///< parallel to document::quantities
  number loss;

  friend bool operator==(const snapshot&, const snapshot&) = default;
};

/// A forward-pass line: `quantity` = formula = formula with numbers = value.
struct forward_step {
  quantity_index quantity = 0;
  expression formula;  ///< with every node's value filled (substitute them for the numbers line)
  number value;

  friend bool operator==(const forward_step&, const forward_step&) = default;
};

/// d(of)/d(wrt). `via`, when set, restricts it to the paths through that consumer of `wrt`
/// (a term of a grouped sum whose label would otherwise be ambiguous); exporters may omit it when
/// `of` is reached from `wrt` only through `via` (then `via_needed` is false).
struct derivative {
  quantity_index of = 0;
  quantity_index wrt = 0;
  std::optional<quantity_index> via;
  bool via_needed = false;

  friend bool operator==(const derivative&, const derivative&) = default;
};

/// One factor of a product, or one term of a sum.
struct factor {
  derivative d;
  /// Local symbolic form (-(t1 - out_o1), out_o1(1 - out_o1), out_h1), node values filled. Empty
  /// when the factor is a composite derived in an earlier step (`defined_by`).
  expression form;
  number value;
  /// Index into iteration::backward of the step that derives this factor, if any.
  std::optional<std::uint32_t> defined_by;

  friend bool operator==(const factor&, const factor&) = default;
};

/// One chain-rule equation.
///   product: d = factors[0] * factors[1] * ...   (dE_total/dw5 = dE_total/dout_o1 * ... )
///   sum:     d = factors[0] + factors[1] + ...   (dE_total/dout_h1 = dE_o1/dout_h1 +
///   dE_o2/dout_h1)
struct gradient_step {
  enum class kind : std::uint8_t { product, sum };
  kind combine = kind::product;
  derivative d;
  std::vector<factor> factors;
  number value;
  /// Set when this step gives a parameter's gradient (the others are helpers it refers to).
  std::optional<quantity_index> parameter;

  friend bool operator==(const gradient_step&, const gradient_step&) = default;
};

/// `lhs` := rhs. The optimizer's state updates (m_w5 := beta1 m_w5 + (1 - beta1) g, ...) and
/// finally the parameter's own update (w5+ := w5 - eta * dE_total/dw5).
struct assignment {
  std::string lhs_text;       ///< "w5+", "v_w5", "m_hat_w5"
  std::string lhs_latex;      ///< "w_5^{+}", "v_{w5}", "\\hat{m}_{w5}"
  bool is_parameter = false;  ///< true for the last line, the parameter's new value
  expression rhs;             ///< node values filled
  number before;              ///< the previous value of the left-hand side (empty for derived ones)
  number value;               ///< the new value

  friend bool operator==(const assignment&, const assignment&) = default;
};

struct parameter_update {
  quantity_index parameter = 0;
  /// The gradient this update used: with sequential order, for earlier layers, the one recomputed
  /// with the already updated later weights.
  number gradient;
  std::vector<assignment> lines;

  friend bool operator==(const parameter_update&, const parameter_update&) = default;
};

/// One data row's share of a batch update: its loss and d loss / d parameter with this row's
/// values and the parameters before the update.
struct batch_row {
  std::uint64_t row = 0;  ///< 1-based row of the data set
  number loss;
  std::vector<number> gradients;  ///< parallel to document::parameters

  friend bool operator==(const batch_row&, const batch_row&) = default;
};

/// How a batch of rows became one update: every row's contribution, then their sum or mean
/// (settings::batch_reduction), which is the gradient the update lines use.
struct batch_step {
  std::vector<batch_row> rows;
  number loss;                    ///< the reduced loss, recorded in the loss history
  std::vector<number> gradients;  ///< the reduced gradients, parallel to document::parameters

  friend bool operator==(const batch_step&, const batch_step&) = default;
};

/// Everything about one traced iteration: the forward pass with the current parameters, the
/// backward pass and the updates it leads to. In a batch update of several rows the forward and
/// backward pass are the first row's, and `batch` adds up all rows.
struct iteration {
  std::uint64_t index = 0;  ///< 1-based; iteration k runs with the parameters after k - 1 updates
  snapshot forward;         ///< every quantity's value
  std::vector<forward_step> forward_steps;   ///< shown computed quantities, in evaluation order
  std::vector<number> gradients;             ///< d loss / d quantity, parallel to quantities
  std::vector<number> edge_partials;         ///< parallel to document::edges
  std::vector<number> engine_edge_partials;  ///< parallel to document::engine_edges
  /// Chain-rule steps: for each parameter (output layer first) the helper steps it needs that were
  /// not given before, then its own product step.
  std::vector<gradient_step> backward;
  /// In the order applied (sequential order: last layer first).
  std::vector<parameter_update> updates;
  /// Only for sequential order: the chain-rule steps redone with the already-updated later
  /// weights, in the order they were used (empty for simultaneous).
  std::vector<gradient_step> recomputed;
  /// Only for updates made from more than one data row.
  std::optional<batch_step> batch;
  /// Only for updates made from one row of a data set: the loss of the same row (and dropout
  /// masks) with the parameters after this update. The loss history's next point is the next
  /// row's, so it cannot say whether the update helped the row it was made from.
  std::optional<number> row_loss_after;

  friend bool operator==(const iteration&, const iteration&) = default;
};

/// Loss after `updates` updates (0 = the initial parameters).
struct loss_point {
  std::uint64_t updates = 0;
  number loss;

  friend bool operator==(const loss_point&, const loss_point&) = default;
};

// ---------------------------------------------------------------------------------------------
// Evaluation of the trained model on a data set

/// One data row run through the trained model.
struct evaluation_row {
  std::uint64_t row = 0;                   ///< 1-based row of the data set
  std::vector<number> outputs;             ///< parallel to evaluation::outputs
  std::vector<number> targets;             ///< parallel to evaluation::targets
  number loss;                             ///< the objective with this row's values
  std::optional<std::uint32_t> predicted;  ///< classifiers: index into evaluation::classes
  std::optional<std::uint32_t> actual;

  friend bool operator==(const evaluation_row&, const evaluation_row&) = default;
};

struct class_metrics {
  std::string label;            ///< as in evaluation::classes
  std::uint64_t support = 0;    ///< rows whose actual class this is
  std::uint64_t predicted = 0;  ///< rows predicted as this class
  number precision;             ///< true positives / predicted (0 when nothing was predicted as it)
  number recall;                ///< true positives / support (0 when the class never occurs)
  number f1;  ///< 2 tp / (2 tp + fp + fn), the harmonic mean of the two (0 when tp = 0)

  friend bool operator==(const class_metrics&, const class_metrics&) = default;
};

/// `evaluate NAME on DATA`: the objective and NAME's values on every row of DATA with the
/// parameters after training, and for classifiers the usual metrics.
struct evaluation {
  std::string data_set;
  std::uint64_t rows = 0;
  std::vector<quantity_index> outputs;  ///< NAME's scalars
  std::vector<quantity_index> targets;  ///< the model's targets the outputs are compared with
  /// The first `rows` rows, or the first settings-given number of them for large sets.
  std::vector<evaluation_row> predictions;
  number mean_loss;
  /// "" (not a classifier), "binary" (one output, targets 0/1, threshold 0.5), "one-hot" (K
  /// outputs, K targets with a single 1 per row, argmax), "class index" (K outputs, one target
  /// holding 1..K, argmax).
  std::string classifier;
  std::vector<std::string> classes;                   ///< "0", "1" (binary) or "1" ... "K"
  std::vector<std::vector<std::uint64_t>> confusion;  ///< [actual][predicted]
  std::uint64_t correct = 0;
  number accuracy;
  std::vector<class_metrics> per_class;
  /// Unweighted means over the classes that occur as an actual or a predicted class.
  number macro_precision;
  number macro_recall;
  number macro_f1;

  friend bool operator==(const evaluation&, const evaluation&) = default;
};

// ---------------------------------------------------------------------------------------------
// Shown derivatives

/// `show d(E_total)/d(w5)`: a derivative of the model as written, simplified, and its value.
/// Differentiating by a computed quantity holds the quantities it is computed from fixed (the
/// adjoint of that node, as `chainrule derive` does).
struct shown_derivative {
  std::string
      written;  ///< normalised: "d(E_total)/d(w5)", "d2(E_total)/d(w1)d(w2)", "d2(f)/d(x)^2"
  quantity_index of = 0;
  std::vector<quantity_index> wrt;  ///< one per order, in the order differentiated
  /// The simplified expression in plain text, quantities by name:
  /// "-(t1 - out_o1)*out_o1*(1 - out_o1)*out_h1".
  std::string text;
  /// The same in LaTeX, with `#1`, `#2`, ... standing for the symbols of `symbols[0]`,
  /// `symbols[1]`, ..., so each exporter writes quantities in its own notation:
  /// "-\left(#1 - #2\right) \cdot #2 \cdot \left(1 - #2\right) \cdot #3".
  std::string latex;
  std::vector<quantity_index> symbols;
  number value;
  /// Where the value was taken: empty for `differentiate` (the one pass shown), "the initial
  /// parameters" for a training run (the values of its first update).
  std::string evaluated_at;

  friend bool operator==(const shown_derivative&, const shown_derivative&) = default;
};

// Validation while training (`validate on DATA` on the train line)

/// One validation: the objective's mean over the validation rows with the parameters after
/// `update` updates (nothing updated, dropout off).
struct validation_point {
  std::uint64_t update = 0;
  /// The epoch update `update` belongs to (1-based, ceil(update / updates per epoch)); 0 when
  /// training has no data set.
  std::uint64_t epoch = 0;
  /// The mean of the training losses recorded for the updates since the previous validation
  /// (each before its update, as in document::loss_history).
  number training_loss;
  number validation_loss;
  /// True when this validation loss is strictly lower than every earlier one (the first always is).
  bool best = false;

  friend bool operator==(const validation_point&, const validation_point&) = default;
};

struct validation_run {
  std::string data_set;
  std::uint64_t rows = 0;
  std::uint64_t every = 1;     ///< updates between validations (after updates every, 2 every, ...)
  std::uint64_t patience = 0;  ///< validations without improvement that stop training; 0: never
  bool restore_best = false;   ///< `restore best` was asked for
  std::vector<validation_point> history;
  std::uint64_t best_update =
      0;  ///< the update of the lowest validation loss (the first of equals)
  number best_loss;
  std::uint64_t planned_steps = 0;  ///< the updates the train line asked for
  /// Training stopped after settings::steps < planned_steps updates because `patience`
  /// validations in a row did not improve on the one after best_update.
  bool stopped_early = false;
  /// The parameters of the final state (and of the evaluations) are those after best_update,
  /// put back after training; false when restore_best was not asked for or best_update was the
  /// last update made.
  bool restored = false;

  friend bool operator==(const validation_run&, const validation_run&) = default;
};

/// "stopped early at update 12: no improvement for 3 validations since update 6", or
/// "ran all 40 updates; the best validation loss was after update 36" for a run that did not
/// stop.
std::string stopping_sentence(const validation_run& v, std::uint64_t steps);

// ---------------------------------------------------------------------------------------------
// The whole document

struct document {
  int schema = schema_version;
  std::string title;   ///< "A step by step backpropagation example"
  std::string source;  ///< where the model came from: a file name, "C++ API"
  settings config;

  /// One per engine node, index = node id (creation order, a topological order).
  std::vector<quantity> quantities;
  /// Indices of the inputs, targets, parameters and named constants: the "given values".
  std::vector<quantity_index> given;
  /// Indices of the shown computed quantities in evaluation order (what forward_steps cover).
  std::vector<quantity_index> computed;
  /// Indices of the parameters that are trained, in update order for simultaneous updates.
  std::vector<quantity_index> parameters;
  quantity_index loss = 0;

  /// Graph between shown quantities, with named-level local partials.
  std::vector<edge> edges;
  /// Every engine edge, including those of unnamed intermediates.
  std::vector<edge> engine_edges;

  /// Traced iterations, ascending by index.
  std::vector<iteration> iterations;
  /// Loss after 0, 1, ..., steps updates (steps + 1 entries when training ran; 1 otherwise),
  /// steps being settings::steps, the updates actually made.
  /// Batch runs record each update's reduced batch loss (before the update), and last the
  /// reduced loss of the last batch with the final parameters.
  std::vector<loss_point> loss_history;
  /// Forward pass with the parameters after the last update (its loss is loss_history.back(),
  /// except in batch runs, where it is the last row's loss).
  snapshot final_state;
  /// The same pass as forward-pass lines (formulas with the final values filled in).
  std::vector<forward_step> final_steps;
  /// `evaluate` directives, in source order, run after training.
  std::vector<evaluation> evaluations;
  /// `show` directives, every derivative in source order.
  std::vector<shown_derivative> derivatives;
  /// Validation while training, when the train line has `validate on DATA`.
  std::optional<validation_run> validation;

  friend bool operator==(const document&, const document&) = default;
};

/// "input", "target", ...: for messages and machine-readable output.
std::string_view to_string(quantity_kind kind) noexcept;
std::string_view to_string(layout notation) noexcept;
std::string_view to_string(expr_kind kind) noexcept;
std::string_view to_string(gradient_step::kind combine) noexcept;

/// The name shown for a quantity: its name, or "#<index>" for an unnamed one.
std::string display_name(const document& doc, quantity_index q);

}  // namespace chainrule::trace
