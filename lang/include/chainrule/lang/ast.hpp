// SPDX-License-Identifier: MIT
// The syntax tree of a .chain file, as written (before checking and vector expansion).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "chainrule/lang/diagnostics.hpp"

namespace chainrule::lang {

using expr_id = std::uint32_t;

enum class expr_kind : std::uint8_t {
  number,            ///< text: the decimal literal exactly as written (never signed)
  name,              ///< text: the identifier
  negate,            ///< one child
  add,               ///< two children
  subtract,          ///< two children
  multiply,          ///< two children
  divide,            ///< two children
  power,             ///< two children: base, exponent
  matmul,            ///< two children: `a @ b`
  call,              ///< text: function name; children: the arguments in order
  keyword_argument,  ///< text: keyword; one child (the value); only as a call argument
  element,           ///< one child; `index` is the 1-based subscript of `child[index]`
};

[[nodiscard]] const char* to_string(expr_kind k) noexcept;

/// One node of an expression. Children are stored in the arena, so a node is small and a tree
/// of any depth is walked with loops instead of recursion.
struct expr_node {
  expr_kind kind = expr_kind::number;
  std::uint32_t index = 0;  ///< element: the subscript (1-based); 0 otherwise
  std::string text;
  std::uint32_t line = 0;  ///< location in the arena's file; see expression_arena::location
  std::uint32_t column = 0;
  std::uint32_t length = 1;
  std::uint32_t first_child = 0;  ///< offset into the arena's child list
  std::uint32_t child_count = 0;
};

/// All expression nodes of a program or model in one vector. Invariant: a node's children are
/// always added before the node itself, so every child id is smaller than its parent's id and a
/// forward loop over ids visits children first.
class expression_arena {
 public:
  expression_arena() = default;
  explicit expression_arena(std::string file) : file_(std::move(file)) {}

  expr_id add(expr_kind kind, std::string text, const source_location& where,
              std::span<const expr_id> children = {}, std::uint32_t index = 0);

  [[nodiscard]] const expr_node& operator[](expr_id id) const { return nodes_[id]; }
  [[nodiscard]] std::span<const expr_id> children(expr_id id) const;
  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] source_location location(expr_id id) const;

  /// Copies the subtree rooted at `root` of `from` (which may be this arena) and returns the id
  /// of the copy's root.
  expr_id copy_subtree(const expression_arena& from, expr_id root);

  /// The ids of the subtree rooted at `root`, children before parents (ascending ids).
  [[nodiscard]] std::vector<expr_id> subtree(expr_id root) const;

 private:
  std::string file_;
  std::vector<expr_node> nodes_;
  std::vector<expr_id> child_ids_;
};

/// True when the two trees have the same shape, kinds, texts and indices. Locations are ignored,
/// so a hand-written equation and one expanded from vector shorthand compare equal.
[[nodiscard]] bool structurally_equal(const expression_arena& a, expr_id x,
                                      const expression_arena& b, expr_id y);

// ---------------------------------------------------------------------------------------------
// Statements

enum class declaration_kind : std::uint8_t { input, target, param, constant };

[[nodiscard]] const char* to_string(declaration_kind k) noexcept;  // "input", ..., "const"

/// A decimal literal kept as text. `text` carries a leading '-' when the literal was negated
/// (a '+' sign is dropped).
struct number_literal {
  std::string text;
  source_location location;
};

/// `[0.1, 0.2]` or `[[0.1, 0.2], [0.3, 0.4]]`, flattened in row-major order.
struct array_literal {
  std::vector<std::size_t> shape;  ///< {n} for a vector, {rows, columns} for a matrix
  std::vector<number_literal> values;
  source_location location;  ///< the opening bracket
};

/// `param W[2][2] = [[...]]`, `input x = 0.05`, `param b[2] = 0.35` (fills every element).
struct declaration {
  declaration_kind kind = declaration_kind::input;
  std::string name;
  source_location location;        ///< the name
  std::vector<std::size_t> shape;  ///< written dimensions (`[2][2]`); empty if none written
  std::vector<source_location> shape_locations;
  std::variant<number_literal, array_literal> value;
};

/// `name = expression`
struct equation_statement {
  std::string name;
  source_location location;  ///< the name on the left
  expr_id value = 0;
};

/// `symbol w1 = "w_1"`: the raw text between the quotes, not validated here.
struct symbol_statement {
  std::string name;
  source_location location;
  std::string latex;
  source_location latex_location;
};

struct precision_directive {
  bool binary_double = false;  ///< `precision double`
  number_literal digits;       ///< `precision N` (unchecked text)
  source_location location;
};

enum class display_unit : std::uint8_t { decimals, digits };
enum class rounding_mode : std::uint8_t { half_even, half_up };

struct display_directive {
  number_literal count;
  display_unit unit = display_unit::decimals;
  std::optional<rounding_mode> rounding;
  bool keep_zeros = false;
  source_location location;
};

/// `name = value` inside `sgd(lr = 0.5)`.
struct named_value {
  std::string name;
  source_location location;
  number_literal value;
};

struct optimizer_call {
  std::string name;
  source_location location;
  std::vector<named_value> arguments;
};

enum class step_unit : std::uint8_t { steps, epochs };
enum class update_order : std::uint8_t { simultaneous, sequential };
/// How the rows of a batch combine into one update.
enum class batch_reduction : std::uint8_t { sum, mean };
enum class trace_selector : std::uint8_t { first, last, all, none, every, step };

struct trace_item {
  trace_selector selector = trace_selector::first;
  number_literal number;  ///< for `every N` and a bare step number
  source_location location;
};

/// `train minimize E using sgd(lr = 0.5) for 1 step [on DATA] [batch N|full] [reduce sum|mean]
/// [order ...] [trace ...]`
struct train_directive {
  std::string objective;
  source_location objective_location;
  optimizer_call optimizer;
  number_literal count;
  step_unit unit = step_unit::steps;
  std::optional<std::string> data_set;
  source_location data_set_location;
  std::optional<update_order> order;
  source_location order_location;
  std::vector<trace_item> trace;
  /// `batch N` (the count) or `batch full` (batch_full set, no count).
  std::optional<number_literal> batch;
  bool batch_full = false;
  source_location batch_location;
  std::optional<batch_reduction> reduction;
  source_location reduction_location;
  /// `validate on DATA [every K steps|epochs]`, `patience P`, `restore best`.
  std::optional<std::string> validation_set;
  source_location validation_location;  ///< the data set's name
  std::optional<number_literal> validate_every;
  step_unit validate_unit = step_unit::steps;
  std::optional<number_literal> patience;
  source_location patience_location;  ///< the `patience` keyword
  bool restore_best = false;
  source_location restore_location;
  source_location location;  ///< the `train` keyword
};

/// `differentiate f`
struct differentiate_directive {
  std::string objective;
  source_location objective_location;
  source_location location;
};

/// `evaluate NAME on DATA`: NAME's values and the objective on every row, after training.
struct evaluate_directive {
  std::string quantity;
  source_location quantity_location;
  std::string data_set;
  source_location data_set_location;
  source_location location;
};

/// One `d(X)` or `d(X)^N` in the denominator of a shown derivative.
struct show_factor {
  std::string name;
  source_location location;  ///< the name
  std::string power;         ///< N as written; empty for no `^N`
  source_location power_location;
};

/// `d(OF)/d(X)`, `d2(OF)/d(X)d(Y)`, `d2(OF)/d(X)^2`: the order and the factors as written; the
/// checker compares them.
struct show_item {
  std::string text;          ///< the whole item as written
  source_location location;  ///< the whole item
  std::string order;         ///< the digits after `d` ("2"); empty for plain `d`
  source_location order_location;
  std::string of;
  source_location of_location;
  std::vector<show_factor> factors;
};

/// `show d(E_total)/d(w5), d2(E_total)/d(w1)d(w2)`
struct show_directive {
  std::vector<show_item> items;
  source_location location;  ///< the `show` keyword
};

/// `split DATA into FIRST, SECOND ratio R|rows N [shuffle seed S]`: two data sets made of the
/// rows of DATA.
struct split_directive {
  std::string source;
  source_location source_name_location;
  std::string first;
  source_location first_location;
  std::string second;
  source_location second_location;
  std::optional<number_literal> ratio;
  std::optional<number_literal> rows;
  source_location size_location;  ///< the `ratio` or `rows` keyword (the first one given)
  std::optional<number_literal> seed;
  source_location location;  ///< the `split` keyword
};

/// One argument of a layer constructor: positional or `keyword = value`, where the value is a
/// name, a number, an array literal or a name applied to one number (`init = uniform(0.5)`).
struct layer_argument {
  std::optional<std::string> keyword;
  source_location keyword_location;
  std::variant<std::string, number_literal, array_literal> value;
  /// `uniform(0.5)`: `value` holds the name and this the number in parentheses.
  std::optional<number_literal> call_argument;
  source_location location;  ///< the value
};

/// `layer h = dense(x, 2, sigmoid, weights = [[...]], bias = [...])`
struct layer_statement {
  std::string name;
  source_location location;
  std::string constructor;  ///< "dense"
  source_location constructor_location;
  std::vector<layer_argument> arguments;
};

/// `data xor(x1, x2, y) = [[0, 0, 0], ...]` or `data xor = from "xor.csv"`.
struct data_statement {
  std::string name;
  source_location location;
  std::vector<std::string> columns;  ///< as written; empty when the CSV header names them
  std::vector<source_location> column_locations;
  std::optional<std::string> file;  ///< `from "..."`, relative to the .chain file's folder
  source_location file_location;
  /// Inline rows, flattened: rows.size() == row_count * row_width when not ragged.
  std::vector<std::string> values;
  std::vector<std::size_t> row_lengths;
  std::vector<source_location> row_locations;
};

using statement =
    std::variant<declaration, equation_statement, symbol_statement, precision_directive,
                 display_directive, train_directive, differentiate_directive, layer_statement,
                 data_statement, evaluate_directive, show_directive, split_directive>;

/// A parsed .chain file. Statements are in source order (a declaration line with several names
/// gives one `declaration` per name).
struct program {
  std::string file_name;
  std::string source;  ///< the text that was parsed (kept for diagnostics)
  expression_arena expressions;
  std::vector<statement> statements;
  source_location end;  ///< just past the last character, for "missing ..." diagnostics
};

}  // namespace chainrule::lang
