// SPDX-License-Identifier: MIT
// The .chain grammar (PEGTL) and the actions that build the program.
//
// The grammar commits early: once a statement's keyword (or `name =`) has matched, everything
// after it is `must`, so actions never run on input that is later backtracked over. Expressions
// are built on an operand stack; `+ - * / @` chains, unary signs and `^` chains are loops, so
// only parentheses, brackets and call arguments recurse, and those count against
// max_nesting_depth.
//
// Extending the language: add a rule for the new statement (starting with its keyword in an
// `if_must`), list it in `statement`, give every rule it puts under `must` a CHAINRULE_EXPECT
// line (a static_assert insists), add a struct for it to the `statement` variant in ast.hpp and
// actions that fill the struct and push it. New built-in functions need no grammar change: add
// them to the table in functions.cpp.
#include "chainrule/lang/parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <tao/pegtl.hpp>
#include <type_traits>
#include <utility>

#include "decimal.hpp"
#include "source_text.hpp"
#include "suggest.hpp"

namespace chainrule::lang {
namespace {

namespace pegtl = tao::pegtl;

// ---------------------------------------------------------------------------------------------
// Parse state

struct sign_run {
  std::uint32_t minus_count = 0;
  source_location location;
};

struct power_frame {
  std::size_t operand_base = 0;
  std::vector<source_location> carets;
  std::vector<sign_run> exponent_signs;
};

struct call_frame {
  std::string name;
  source_location location;
  std::size_t operand_base = 0;
};

struct array_builder {
  source_location location;
  bool keep_value_locations = true;
  std::vector<std::string> texts;
  std::vector<source_location> value_locations;
  std::vector<std::size_t> row_lengths;
  std::vector<source_location> row_locations;
  std::size_t row_start = 0;
};

// Thrown by the control class and by the nesting check; turned into a diagnostic by parse().
struct syntax_failure {
  std::size_t offset = 0;
  std::string expected;
  std::string message;  // replaces "unexpected ..." when set
  bool suggest_keyword = false;
};

struct parse_state {
  parse_state(const detail::source_text& source, program& program_out, std::size_t nesting_limit)
      : src(source), out(program_out), max_depth(nesting_limit) {}

  const detail::source_text& src;
  const char* base = nullptr;
  program& out;
  std::vector<diagnostic> errors;
  std::size_t depth = 0;
  std::size_t max_depth = max_nesting_depth;
  std::vector<std::size_t> open_brackets;  // offsets, for "never closed" notes

  std::vector<expr_id> operands;
  std::vector<sign_run> signs;
  std::vector<power_frame> powers;
  std::vector<call_frame> calls;
  std::vector<std::pair<std::string, source_location>> keywords;
  std::optional<std::pair<std::uint32_t, source_location>> pending_index;

  std::pair<std::string, source_location> equation_name;
  declaration_kind decl_kind = declaration_kind::input;
  declaration decl;
  array_builder array;
  bool in_data = false;
  symbol_statement symbol;
  precision_directive precision;
  display_directive display;
  train_directive train;
  differentiate_directive differentiate;
  evaluate_directive evaluate;
  show_directive show;
  show_item show_entry;
  split_directive split;
  layer_statement layer;
  std::optional<std::pair<std::string, source_location>> layer_keyword;
  data_statement data;

  template <typename Input>
  source_location where(const Input& in) const {
    return src.location(static_cast<std::size_t>(in.begin() - base), in.size());
  }
  source_location where(const char* p, std::size_t n) const {
    return src.location(static_cast<std::size_t>(p - base), n);
  }

  void error(const source_location& at, std::string message, std::string expected = {}) {
    errors.push_back(src.make(severity::error, at, std::move(message), std::move(expected)));
  }

  expr_id add(expr_kind kind, std::string text, const source_location& at,
              std::initializer_list<expr_id> children = {}, std::uint32_t index = 0) {
    return out.expressions.add(kind, std::move(text), at,
                               std::span<const expr_id>(children.begin(), children.size()), index);
  }

  expr_id pop() {
    const expr_id id = operands.back();
    operands.pop_back();
    return id;
  }

  expr_id negate(const sign_run& s, expr_id id) {
    for (std::uint32_t k = 0; k < s.minus_count; ++k)
      id = add(expr_kind::negate, {}, s.location, {id});
    return id;
  }

  void enter(const char* p) {
    open_brackets.push_back(static_cast<std::size_t>(p - base));
    if (++depth > max_depth) {
      throw syntax_failure{
          static_cast<std::size_t>(p - base),
          "fewer levels; give inner parts names of their own (chainrule "
          "--max-nesting raises the limit)",
          fmt::format("brackets nest too deeply (the limit is {} levels)", max_depth), false};
    }
  }
  void leave() {
    --depth;
    open_brackets.pop_back();
  }

  number_literal number(std::string_view matched, const source_location& at) {
    // `matched` is an optional sign, blanks, then the literal; '+' is dropped.
    number_literal n;
    n.location = at;
    const auto start = matched.find_first_of("0123456789.");
    const std::string_view digits = matched.substr(start == std::string_view::npos ? 0 : start);
    if (!matched.empty() && matched.front() == '-') n.text = "-";
    n.text += digits;
    if (auto problem = detail::decimal_problem(digits)) {
      error(at, fmt::format("bad number '{}': {}", digits, *problem),
            std::string(detail::decimal_expectation));
    }
    return n;
  }
};

// ---------------------------------------------------------------------------------------------
// Lexical rules

// Blanks and comments; inside brackets also line breaks, so a matrix or a long call may span
// lines. A custom rule because it depends on the bracket depth in the state.
struct ws {
  using rule_t = ws;
  using subs_t = pegtl::empty_list;

  template <pegtl::apply_mode, pegtl::rewind_mode, template <typename...> class Action,
            template <typename...> class Control, typename Input>
  static bool match(Input& in, parse_state& st) {
    while (!in.empty()) {
      const char c = in.peek_char();
      if (c == ' ' || c == '\t') {
        in.bump(1);
      } else if (c == '#') {
        std::size_t n = 1;
        while (n < in.size(n + 1) && in.peek_char(n) != '\n')
          ++n;
        in.bump(n);
      } else if (st.depth > 0 && c == '\n') {
        in.bump(1);
      } else if (st.depth > 0 && c == '\r' && in.size(2) >= 2 && in.peek_char(1) == '\n') {
        in.bump(2);
      } else {
        break;
      }
    }
    return true;
  }
};

// A number-like token: starts with a digit (or '.' and a digit) and runs over letters, digits,
// dots and an exponent sign, so that `1.2.3` or `3x` is one bad number rather than a number
// followed by something confusing.
struct number_token {
  using rule_t = number_token;
  using subs_t = pegtl::empty_list;

  static bool is_word(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == '.';
  }
  static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

  template <pegtl::apply_mode, pegtl::rewind_mode, template <typename...> class Action,
            template <typename...> class Control, typename Input, typename... States>
  static bool match(Input& in, States&&... /*unused*/) {
    const std::size_t available = in.size(2);
    if (available == 0) return false;
    const char c0 = in.peek_char();
    if (!is_digit(c0) && !(c0 == '.' && available >= 2 && is_digit(in.peek_char(1)))) return false;
    std::size_t n = 1;
    for (;;) {
      if (in.size(n + 2) <= n) break;
      const char c = in.peek_char(n);
      if (is_word(c)) {
        ++n;
      } else if ((c == '+' || c == '-') &&
                 (in.peek_char(n - 1) == 'e' || in.peek_char(n - 1) == 'E') &&
                 in.size(n + 2) > n + 1 && is_digit(in.peek_char(n + 1))) {
        ++n;
      } else {
        break;
      }
    }
    in.bump(n);
    return true;
  }
};

using pegtl::at;
using pegtl::if_must;
using pegtl::must;
using pegtl::not_at;
using pegtl::one;
using pegtl::opt;
using pegtl::seq;
using pegtl::sor;
using pegtl::star;

using identifier = pegtl::identifier;
struct line_end : seq<opt<one<'\r'>>, one<'\n'>> {};
struct statement_end : sor<line_end, pegtl::eof> {};
struct equals : seq<one<'='>, not_at<one<'='>>> {};
struct comma : one<','> {};
struct open_paren : one<'('> {};
struct close_paren : one<')'> {};
struct open_bracket : one<'['> {};
struct close_bracket : one<']'> {};
struct sign_char : one<'-', '+'> {};
struct signed_number : seq<opt<sign_char, star<one<' ', '\t'>>>, number_token> {};
struct closing_quote : one<'"'> {};
struct string_literal : seq<one<'"'>, star<pegtl::not_one<'"', '\n', '\r'>>, must<closing_quote>> {
};

// ---------------------------------------------------------------------------------------------
// Expressions

struct expression;
struct postfix;
struct power;
struct unary;

struct number_operand : number_token {};
struct name_operand : identifier {};
struct function_name : identifier {};
struct keyword_name : identifier {};
struct keyword_argument
    : seq<at<identifier, ws, equals>, keyword_name, ws, equals, ws, must<expression>> {};
struct argument : sor<keyword_argument, expression> {};
struct argument_list : sor<at<close_paren>, seq<argument, star<ws, comma, ws, must<argument>>>> {};
struct call : if_must<at<identifier, star<one<' ', '\t'>>, one<'('>>, function_name, ws, open_paren,
                      ws, argument_list, ws, close_paren> {};
struct parenthesised : if_must<open_paren, ws, expression, ws, close_paren> {};
struct primary : sor<parenthesised, number_operand, call, name_operand> {};
struct index_number : number_token {};
struct index_suffix : if_must<one<'['>, ws, index_number, ws, one<']'>> {};
struct postfix : seq<primary, star<index_suffix>> {};

struct power_begin : pegtl::success {};
struct caret : one<'^'> {};
struct exponent_signs : star<sign_char, ws> {};
struct power_tail : seq<caret, ws, exponent_signs, must<postfix>> {};
struct power : seq<power_begin, postfix, star<ws, power_tail>> {};

struct prefix_signs : star<sign_char, ws> {};
struct unary : seq<prefix_signs, must<power>> {};
struct mul_tail : seq<one<'*', '/', '@'>, ws, must<unary>> {};
struct term : seq<unary, star<ws, mul_tail>> {};
struct add_tail : seq<one<'+', '-'>, ws, must<term>> {};
struct expression : seq<term, star<ws, add_tail>> {};

// ---------------------------------------------------------------------------------------------
// Array literals: `[1, 2]` or `[[1, 2], [3, 4]]`, trailing commas allowed.

struct array_number : signed_number {};
struct number_list : seq<array_number, star<ws, comma, ws, array_number>, opt<ws, comma>> {};
struct row_open : open_bracket {};
struct row_close : close_bracket {};
struct matrix_row : if_must<row_open, ws, number_list, ws, row_close> {};
struct matrix_body : seq<matrix_row, star<ws, comma, ws, matrix_row>, opt<ws, comma>> {};
struct array_open : open_bracket {};
struct array_close : close_bracket {};
struct array_body : sor<matrix_body, number_list> {};
struct array_literal_rule : if_must<array_open, ws, array_body, ws, array_close> {};

// ---------------------------------------------------------------------------------------------
// Statements

struct kw_precision : TAO_PEGTL_KEYWORD("precision") {};
struct kw_display : TAO_PEGTL_KEYWORD("display") {};
struct kw_symbol : TAO_PEGTL_KEYWORD("symbol") {};
struct kw_train : TAO_PEGTL_KEYWORD("train") {};
struct kw_differentiate : TAO_PEGTL_KEYWORD("differentiate") {};
struct kw_layer : TAO_PEGTL_KEYWORD("layer") {};
struct kw_data : TAO_PEGTL_KEYWORD("data") {};

struct precision_double : TAO_PEGTL_KEYWORD("double") {};
struct precision_digits : number_token {};
struct precision_value : sor<precision_double, precision_digits> {};
struct precision_stmt : if_must<kw_precision, ws, precision_value> {};

struct display_count : number_token {};
struct unit_decimals : sor<TAO_PEGTL_KEYWORD("decimals"), TAO_PEGTL_KEYWORD("decimal")> {};
struct unit_digits : sor<TAO_PEGTL_KEYWORD("digits"), TAO_PEGTL_KEYWORD("digit")> {};
struct display_unit_rule : sor<unit_decimals, unit_digits> {};
struct half_even : seq<TAO_PEGTL_STRING("half-even"), not_at<pegtl::identifier_other>> {};
struct half_up : seq<TAO_PEGTL_STRING("half-up"), not_at<pegtl::identifier_other>> {};
struct rounding_value : sor<half_even, half_up> {};
struct kw_zeros : TAO_PEGTL_KEYWORD("zeros") {};
struct keep_zeros : if_must<TAO_PEGTL_KEYWORD("keep"), ws, kw_zeros> {};
struct display_option
    : sor<if_must<TAO_PEGTL_KEYWORD("rounding"), ws, rounding_value>, keep_zeros> {};
struct display_end : at<statement_end> {};
struct display_stmt : if_must<kw_display, ws, display_count, ws, display_unit_rule,
                              star<ws, display_option>, ws, display_end> {};

struct decl_keyword : sor<TAO_PEGTL_KEYWORD("input"), TAO_PEGTL_KEYWORD("target"),
                          TAO_PEGTL_KEYWORD("param"), TAO_PEGTL_KEYWORD("const")> {};
struct decl_name : identifier {};
struct shape_number : number_token {};
struct shape_close : one<']'> {};
struct shape_suffix : if_must<one<'['>, ws, shape_number, ws, shape_close> {};
struct decl_scalar_value : signed_number {};
struct decl_array_value : array_literal_rule {};
struct decl_value : sor<decl_array_value, decl_scalar_value> {};
struct decl_equals : equals {};
struct decl_item : seq<decl_name, star<shape_suffix>, ws, must<decl_equals>, ws, must<decl_value>> {
};
struct declaration_stmt
    : if_must<decl_keyword, ws, decl_item, star<ws, comma, ws, must<decl_item>>> {};

struct symbol_name : identifier {};
struct symbol_text : string_literal {};
struct symbol_stmt : if_must<kw_symbol, ws, symbol_name, ws, equals, ws, symbol_text> {};

struct kw_minimize : TAO_PEGTL_KEYWORD("minimize") {};
struct kw_using : TAO_PEGTL_KEYWORD("using") {};
struct kw_for : TAO_PEGTL_KEYWORD("for") {};
struct objective_name : identifier {};
struct optimizer_name : identifier {};
struct optimizer_arg_name : identifier {};
struct optimizer_arg_value : signed_number {};
struct optimizer_arg : seq<optimizer_arg_name, ws, must<equals>, ws, must<optimizer_arg_value>> {};
struct optimizer_arg_list
    : sor<at<close_paren>, seq<optimizer_arg, star<ws, comma, ws, must<optimizer_arg>>>> {};
struct optimizer_args : if_must<open_paren, ws, optimizer_arg_list, ws, close_paren> {};
struct step_count : number_token {};
struct unit_steps : sor<TAO_PEGTL_KEYWORD("steps"), TAO_PEGTL_KEYWORD("step")> {};
struct unit_epochs : sor<TAO_PEGTL_KEYWORD("epochs"), TAO_PEGTL_KEYWORD("epoch")> {};
struct step_unit_rule : sor<unit_steps, unit_epochs> {};
struct data_reference : identifier {};
struct on_clause : if_must<TAO_PEGTL_KEYWORD("on"), ws, data_reference> {};
struct kw_order : TAO_PEGTL_KEYWORD("order") {};
struct order_simultaneous : TAO_PEGTL_KEYWORD("simultaneous") {};
struct order_sequential : TAO_PEGTL_KEYWORD("sequential") {};
struct order_value : sor<order_simultaneous, order_sequential> {};
struct order_clause : if_must<kw_order, ws, order_value> {};
struct trace_first : TAO_PEGTL_KEYWORD("first") {};
struct trace_last : TAO_PEGTL_KEYWORD("last") {};
struct trace_all : TAO_PEGTL_KEYWORD("all") {};
struct trace_none : TAO_PEGTL_KEYWORD("none") {};
struct trace_every_count : number_token {};
struct trace_every : if_must<TAO_PEGTL_KEYWORD("every"), ws, trace_every_count> {};
struct trace_step : number_token {};
struct trace_item_rule
    : sor<trace_first, trace_last, trace_all, trace_none, trace_every, trace_step> {};
struct trace_clause : if_must<TAO_PEGTL_KEYWORD("trace"), ws, trace_item_rule,
                              star<ws, comma, ws, must<trace_item_rule>>> {};
struct kw_batch : TAO_PEGTL_KEYWORD("batch") {};
struct batch_full_value : TAO_PEGTL_KEYWORD("full") {};
struct batch_count : number_token {};
struct batch_value : sor<batch_full_value, batch_count> {};
struct batch_clause : if_must<kw_batch, ws, batch_value> {};
struct kw_reduce : TAO_PEGTL_KEYWORD("reduce") {};
struct reduce_sum : TAO_PEGTL_KEYWORD("sum") {};
struct reduce_mean : TAO_PEGTL_KEYWORD("mean") {};
struct reduce_value : sor<reduce_sum, reduce_mean> {};
struct reduce_clause : if_must<kw_reduce, ws, reduce_value> {};
struct validation_reference : identifier {};
struct kw_validate_on : TAO_PEGTL_KEYWORD("on") {};
struct validate_every_count : number_token {};
struct validate_unit_steps : unit_steps {};
struct validate_unit_epochs : unit_epochs {};
struct validate_unit : sor<validate_unit_steps, validate_unit_epochs> {};
struct validate_every
    : if_must<TAO_PEGTL_KEYWORD("every"), ws, validate_every_count, ws, validate_unit> {};
struct validate_clause : if_must<TAO_PEGTL_KEYWORD("validate"), ws, kw_validate_on, ws,
                                 validation_reference, opt<ws, validate_every>> {};
struct kw_patience : TAO_PEGTL_KEYWORD("patience") {};
struct patience_count : number_token {};
struct patience_clause : if_must<kw_patience, ws, patience_count> {};
struct kw_restore : TAO_PEGTL_KEYWORD("restore") {};
struct restore_best : TAO_PEGTL_KEYWORD("best") {};
struct restore_clause : if_must<kw_restore, ws, restore_best> {};
struct train_option : sor<on_clause, batch_clause, reduce_clause, order_clause, trace_clause,
                          validate_clause, patience_clause, restore_clause> {};
struct train_end : at<statement_end> {};
struct train_stmt : if_must<kw_train, ws, kw_minimize, ws, objective_name, ws, kw_using, ws,
                            optimizer_name, ws, opt<optimizer_args>, ws, kw_for, ws, step_count, ws,
                            step_unit_rule, star<ws, train_option>, ws, train_end> {};

struct differentiate_objective : identifier {};
struct differentiate_stmt : if_must<kw_differentiate, ws, differentiate_objective> {};

struct kw_evaluate : TAO_PEGTL_KEYWORD("evaluate") {};
struct evaluate_quantity : identifier {};
struct evaluate_data : identifier {};
struct kw_evaluate_on : TAO_PEGTL_KEYWORD("on") {};
struct evaluate_stmt
    : if_must<kw_evaluate, ws, evaluate_quantity, ws, kw_evaluate_on, ws, evaluate_data> {};

// `show d(E_total)/d(w5), d2(E_total)/d(w1)d(w2)`. The order digits and the factors are kept as
// written; the checker compares them, so a mismatch gets a message about derivatives, not syntax.
// A line `show = ...` stays an equation for a quantity named show.
struct kw_show : TAO_PEGTL_KEYWORD("show") {};
struct show_order : seq<one<'d'>, star<pegtl::digit>> {};
struct show_of : identifier {};
struct show_of_close : close_paren {};
struct show_slash : one<'/'> {};
struct show_wrt : identifier {};
struct show_wrt_close : close_paren {};
struct show_power : pegtl::plus<pegtl::digit> {};
struct show_caret : one<'^'> {};
struct show_factor_open : seq<one<'d'>, star<one<' ', '\t'>>, one<'('>> {};
struct show_factor_rule : if_must<show_factor_open, ws, show_wrt, ws, show_wrt_close,
                                  opt<ws, show_caret, ws, must<show_power>>> {};
struct show_first_factor : show_factor_rule {};
struct show_of_open : open_paren {};
struct show_item_rule
    : seq<show_order, ws, must<show_of_open>, ws, must<show_of>, ws, must<show_of_close>, ws,
          must<show_slash>, ws, must<show_first_factor>, star<ws, show_factor_rule>> {};
struct show_first_item : show_item_rule {};
struct show_stmt : seq<at<kw_show, ws, not_at<equals>>, kw_show, ws, must<show_first_item>,
                       star<ws, comma, ws, must<show_item_rule>>> {};
// `split` is not reserved: a line is a split only when a name follows the keyword, so an
// equation `split = ...` keeps working.
struct kw_split : TAO_PEGTL_KEYWORD("split") {};
struct split_source : identifier {};
struct kw_into : TAO_PEGTL_KEYWORD("into") {};
struct split_first : identifier {};
struct split_comma : comma {};
struct split_second : identifier {};
struct split_ratio_value : number_token {};
struct kw_ratio : TAO_PEGTL_KEYWORD("ratio") {};
struct split_ratio : if_must<kw_ratio, ws, split_ratio_value> {};
struct split_rows_value : number_token {};
struct kw_rows : TAO_PEGTL_KEYWORD("rows") {};
struct split_rows : if_must<kw_rows, ws, split_rows_value> {};
struct kw_seed : TAO_PEGTL_KEYWORD("seed") {};
struct split_seed_value : number_token {};
struct split_shuffle : if_must<TAO_PEGTL_KEYWORD("shuffle"), ws, kw_seed, ws, split_seed_value> {};
struct split_option : sor<split_ratio, split_rows, split_shuffle> {};
struct split_end : at<statement_end> {};
struct split_stmt : if_must<at<kw_split, ws, identifier>, kw_split, ws, split_source, ws, kw_into,
                            ws, split_first, ws, split_comma, ws, split_second,
                            star<ws, split_option>, ws, split_end> {};

struct layer_name : identifier {};
struct layer_constructor : identifier {};
struct layer_keyword_name : identifier {};
struct layer_array_value : array_literal_rule {};
struct layer_number_value : signed_number {};
struct layer_name_value : identifier {};
struct layer_call_name : identifier {};
struct layer_call_number : signed_number {};
struct layer_call_value : seq<at<identifier, ws, open_paren>, layer_call_name, ws, open_paren, ws,
                              must<layer_call_number>, ws, must<close_paren>> {};
struct layer_value
    : sor<layer_array_value, layer_number_value, layer_call_value, layer_name_value> {};
struct layer_keyword_argument
    : seq<at<identifier, ws, equals>, layer_keyword_name, ws, equals, ws, must<layer_value>> {};
struct layer_argument_rule : sor<layer_keyword_argument, layer_value> {};
struct layer_argument_list
    : sor<at<close_paren>,
          seq<layer_argument_rule, star<ws, comma, ws, must<layer_argument_rule>>>> {};
struct layer_stmt : if_must<kw_layer, ws, layer_name, ws, equals, ws, layer_constructor, ws,
                            open_paren, ws, layer_argument_list, ws, close_paren> {};
// `d = dropout(h, rate = 0.5, mask = [1, 0])` reads like an equation but takes a bracketed mask,
// which expressions cannot hold, so it is the layer statement `layer d = dropout(...)` spelt
// the way the worked examples write it.
struct kw_dropout : TAO_PEGTL_KEYWORD("dropout") {};
struct dropout_name : identifier {};
struct dropout_constructor : kw_dropout {};
struct dropout_stmt
    : if_must<at<identifier, ws, equals, ws, kw_dropout, ws, open_paren>, dropout_name, ws, equals,
              ws, dropout_constructor, ws, open_paren, ws, layer_argument_list, ws, close_paren> {};

struct data_name : identifier {};
struct column_name : identifier {};
struct column_list : if_must<open_paren, ws, column_name, star<ws, comma, ws, must<column_name>>,
                             ws, close_paren> {};
struct data_file : string_literal {};
struct data_from : if_must<TAO_PEGTL_KEYWORD("from"), ws, data_file> {};
struct data_rows : array_literal_rule {};
struct data_source : sor<data_from, data_rows> {};
struct data_stmt
    : if_must<kw_data, ws, data_name, ws, opt<column_list>, ws, equals, ws, data_source> {};

struct equation_name : identifier {};
struct equation_equals : equals {};
struct equation : if_must<at<identifier>, equation_name, ws, equation_equals, ws, expression> {};

struct statement : sor<precision_stmt, display_stmt, declaration_stmt, symbol_stmt, train_stmt,
                       differentiate_stmt, evaluate_stmt, show_stmt, split_stmt, layer_stmt,
                       data_stmt, dropout_stmt, equation> {};
struct line : seq<ws, sor<line_end, pegtl::eof, seq<must<statement>, ws, must<statement_end>>>> {};
struct byte_order_mark : TAO_PEGTL_STRING("\xEF\xBB\xBF") {};
struct document : seq<opt<byte_order_mark>, pegtl::until<pegtl::eof, line>> {};

// ---------------------------------------------------------------------------------------------
// What each rule expects when it fails inside `must`.

template <typename Rule>
inline constexpr const char* expected_text = nullptr;

#define CHAINRULE_EXPECT(text, ...) \
  template <>                       \
  inline constexpr const char* expected_text<__VA_ARGS__> = text

constexpr const char* operand_text = "an operand: a number, a name, a function call or '('";
CHAINRULE_EXPECT(
    "a statement: a declaration (input, target, param, const), an equation "
    "'name = expression', or a directive (precision, display, symbol, train, "
    "differentiate, evaluate, show, split, layer, data)",
    statement);
CHAINRULE_EXPECT("end of line", statement_end);
CHAINRULE_EXPECT("an expression", expression);
CHAINRULE_EXPECT(operand_text, term);
CHAINRULE_EXPECT(operand_text, unary);
CHAINRULE_EXPECT(operand_text, power);
CHAINRULE_EXPECT(operand_text, postfix);
CHAINRULE_EXPECT("a function argument", argument);
CHAINRULE_EXPECT("a function argument or ')'", argument_list);
CHAINRULE_EXPECT("')'", close_paren);
CHAINRULE_EXPECT("a function name", function_name);
CHAINRULE_EXPECT("'('", open_paren);
CHAINRULE_EXPECT("'='", equals);
CHAINRULE_EXPECT("'\"' to close the string on the same line", closing_quote);
CHAINRULE_EXPECT("an index such as 1", index_number);
CHAINRULE_EXPECT("']'", pegtl::one<']'>);
CHAINRULE_EXPECT("a number or '['", array_body);
CHAINRULE_EXPECT("a number", number_list);
CHAINRULE_EXPECT("',' or ']' to end the row", row_close);
CHAINRULE_EXPECT("',' or ']'", array_close);
CHAINRULE_EXPECT("the number of significant digits (10 to 10000) or 'double'", precision_value);
CHAINRULE_EXPECT("the number of decimals or digits to print", display_count);
CHAINRULE_EXPECT("'decimals' or 'digits'", display_unit_rule);
CHAINRULE_EXPECT("'half-even' or 'half-up'", rounding_value);
CHAINRULE_EXPECT("'zeros' (as in 'keep zeros')", kw_zeros);
CHAINRULE_EXPECT("end of line, 'rounding half-even|half-up' or 'keep zeros'", display_end);
CHAINRULE_EXPECT("a name to declare, as in 'w1 = 0.15'", decl_item);
CHAINRULE_EXPECT("a dimension such as 2", shape_number);
CHAINRULE_EXPECT("']'", shape_close);
CHAINRULE_EXPECT("'=' and a value, or a dimension such as '[2]'", decl_equals);
CHAINRULE_EXPECT("a number or a bracketed list of numbers", decl_value);
CHAINRULE_EXPECT("the name the symbol is for", symbol_name);
CHAINRULE_EXPECT("a quoted LaTeX string such as \"w_1\"", symbol_text);
CHAINRULE_EXPECT("'minimize'", kw_minimize);
CHAINRULE_EXPECT("the name of the quantity to minimize", objective_name);
CHAINRULE_EXPECT("'using' and an optimizer, as in 'using sgd(lr = 0.5)'", kw_using);
CHAINRULE_EXPECT("an optimizer: sgd, momentum, rmsprop, adagrad, adam or perceptron",
                 optimizer_name);
CHAINRULE_EXPECT("an optimizer argument 'name = value', as in 'lr = 0.5'", optimizer_arg_list);
CHAINRULE_EXPECT("an optimizer argument 'name = value', as in 'lr = 0.5'", optimizer_arg);
CHAINRULE_EXPECT("a number", optimizer_arg_value);
CHAINRULE_EXPECT("'for' and a number of steps, as in 'for 1 step'", kw_for);
CHAINRULE_EXPECT("the number of steps", step_count);
CHAINRULE_EXPECT("'steps' or 'epochs'", step_unit_rule);
CHAINRULE_EXPECT(
    "end of line, or 'on DATA', 'batch N|full', 'reduce sum|mean', 'order ...', 'trace ...', "
    "'validate on DATA', 'patience P' or 'restore best'",
    train_end);
CHAINRULE_EXPECT("'on' and a data set, as in 'validate on val'", kw_validate_on);
CHAINRULE_EXPECT("the name of a data set", validation_reference);
CHAINRULE_EXPECT("a number of steps or epochs, as in 'every 2 epochs'", validate_every_count);
CHAINRULE_EXPECT("'steps' or 'epochs'", validate_unit);
CHAINRULE_EXPECT("a number of validations without improvement, as in 'patience 3'", patience_count);
CHAINRULE_EXPECT("'best' (as in 'restore best')", restore_best);
CHAINRULE_EXPECT("'split'", kw_split);
CHAINRULE_EXPECT("the name of the data set to split", split_source);
CHAINRULE_EXPECT("'into' and two names, as in 'split all into train, val ratio 0.8'", kw_into);
CHAINRULE_EXPECT("the name of the first part", split_first);
CHAINRULE_EXPECT("',' and the name of the second part", split_comma);
CHAINRULE_EXPECT("the name of the second part", split_second);
CHAINRULE_EXPECT("the fraction of rows in the first part, as in 'ratio 0.8'", split_ratio_value);
CHAINRULE_EXPECT("the number of rows in the first part, as in 'rows 1200'", split_rows_value);
CHAINRULE_EXPECT("'seed' and a number, as in 'shuffle seed 7'", kw_seed);
CHAINRULE_EXPECT("a seed, as in 'shuffle seed 7'", split_seed_value);
CHAINRULE_EXPECT("end of line, 'ratio R', 'rows N' or 'shuffle seed S'", split_end);
CHAINRULE_EXPECT("'full' or a number of rows per update, as in 'batch 32'", batch_value);
CHAINRULE_EXPECT("'sum' or 'mean'", reduce_value);
CHAINRULE_EXPECT("the name of a data set", data_reference);
CHAINRULE_EXPECT("'simultaneous' or 'sequential'", order_value);
CHAINRULE_EXPECT("'first', 'last', 'all', 'none', 'every N' or a step number", trace_item_rule);
CHAINRULE_EXPECT("a number of steps", trace_every_count);
CHAINRULE_EXPECT("the name of the quantity to differentiate", differentiate_objective);
CHAINRULE_EXPECT("the name of the quantity to evaluate, as in 'evaluate y on test'",
                 evaluate_quantity);
CHAINRULE_EXPECT("'on' and a data set, as in 'evaluate y on test'", kw_evaluate_on);
CHAINRULE_EXPECT("the name of a data set", evaluate_data);
CHAINRULE_EXPECT("a derivative such as 'd(E_total)/d(w5)' or 'd2(E_total)/d(w1)d(w2)'",
                 show_first_item);
CHAINRULE_EXPECT("a derivative such as 'd(E_total)/d(w5)' or 'd2(E_total)/d(w1)d(w2)'",
                 show_item_rule);
CHAINRULE_EXPECT("'(' and the quantity to differentiate, as in 'd(E_total)'", show_of_open);
CHAINRULE_EXPECT("the name of the quantity to differentiate, as in 'd(E_total)'", show_of);
CHAINRULE_EXPECT("')'", show_of_close);
CHAINRULE_EXPECT("'/' and what to differentiate by, as in 'd(E_total)/d(w5)'", show_slash);
CHAINRULE_EXPECT("'d(NAME)', what to differentiate by, as in 'd(E_total)/d(w5)'",
                 show_first_factor);
CHAINRULE_EXPECT("the name to differentiate by, as in 'd(w5)'", show_wrt);
CHAINRULE_EXPECT("')'", show_wrt_close);
CHAINRULE_EXPECT("a whole number, as in 'd(w1)^2'", show_power);
CHAINRULE_EXPECT("the layer's name", layer_name);
CHAINRULE_EXPECT("the name of the dropout's result", dropout_name);
CHAINRULE_EXPECT("'dropout'", dropout_constructor);
CHAINRULE_EXPECT("a layer kind such as 'dense'", layer_constructor);
CHAINRULE_EXPECT("a layer argument or ')'", layer_argument_list);
CHAINRULE_EXPECT("a layer argument", layer_argument_rule);
CHAINRULE_EXPECT("a name, a number or a bracketed list of numbers", layer_value);
CHAINRULE_EXPECT("a number, as in uniform(0.5)", layer_call_number);
CHAINRULE_EXPECT("the data set's name", data_name);
CHAINRULE_EXPECT("a column name (an input or a target)", column_name);
CHAINRULE_EXPECT("'from \"file.csv\"' or a bracketed list of rows", data_source);
CHAINRULE_EXPECT("a quoted file name such as \"data.csv\"", data_file);
CHAINRULE_EXPECT("a name", equation_name);
CHAINRULE_EXPECT("'=' (an equation 'name = expression'), or a directive keyword", equation_equals);

#undef CHAINRULE_EXPECT

template <typename Rule>
inline constexpr bool suggests_keyword = false;
template <>
inline constexpr bool suggests_keyword<equation_equals> = true;

// Rules that always match; `must` still instantiates raise() for them.
template <typename Rule>
inline constexpr bool never_fails = std::is_same_v<Rule, ws>;
template <typename... Rules>
inline constexpr bool never_fails<pegtl::opt<Rules...>> = true;
template <typename... Rules>
inline constexpr bool never_fails<pegtl::star<Rules...>> = true;

template <typename Rule>
struct control : pegtl::normal<Rule> {
  template <typename Input, typename... States>
  [[noreturn]] static void raise(const Input& in, States&&... /*unused*/) {
    constexpr const char* text = expected_text<Rule>;
    // A new `must` in the grammar needs a CHAINRULE_EXPECT line, or its errors would say nothing.
    static_assert(text != nullptr || never_fails<Rule>, "add a CHAINRULE_EXPECT for this rule");
    throw syntax_failure{static_cast<std::size_t>(in.current() - in.begin()),
                         text != nullptr ? text : "valid syntax",
                         {},
                         suggests_keyword<Rule>};
  }
};

// ---------------------------------------------------------------------------------------------
// Actions

template <typename Rule>
struct action : pegtl::nothing<Rule> {};

template <>
struct action<open_paren> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.enter(in.begin());
  }
};
template <>
struct action<close_paren> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.leave();
  }
};

template <>
struct action<number_operand> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    const auto at = st.where(in);
    auto n = st.number(in.string_view(), at);
    st.operands.push_back(st.add(expr_kind::number, std::move(n.text), at));
  }
};

template <>
struct action<name_operand> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.operands.push_back(st.add(expr_kind::name, in.string(), st.where(in)));
  }
};

template <>
struct action<function_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.calls.push_back(call_frame{in.string(), st.where(in), st.operands.size()});
  }
};

template <>
struct action<call> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    call_frame frame = std::move(st.calls.back());
    st.calls.pop_back();
    std::vector<expr_id> args(st.operands.begin() + static_cast<std::ptrdiff_t>(frame.operand_base),
                              st.operands.end());
    st.operands.resize(frame.operand_base);
    st.operands.push_back(
        st.out.expressions.add(expr_kind::call, std::move(frame.name), frame.location, args));
  }
};

template <>
struct action<keyword_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.keywords.emplace_back(in.string(), st.where(in));
  }
};

template <>
struct action<keyword_argument> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    auto [name, at] = std::move(st.keywords.back());
    st.keywords.pop_back();
    const expr_id value = st.pop();
    st.operands.push_back(st.add(expr_kind::keyword_argument, std::move(name), at, {value}));
  }
};

template <>
struct action<index_number> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    const auto at = st.where(in);
    const auto value = detail::whole_number(in.string_view());
    if (!value || *value == 0 || *value > 0xFFFFFFFFu) {
      st.error(at, fmt::format("bad index '{}'", in.string_view()),
               "a whole number from 1, as in x[1]");
      st.pending_index.emplace(1, at);
    } else {
      st.pending_index.emplace(static_cast<std::uint32_t>(*value), at);
    }
  }
};

template <>
struct action<index_suffix> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    const expr_id child = st.pop();
    st.operands.push_back(
        st.add(expr_kind::element, {}, st.where(in), {child}, st.pending_index->first));
  }
};

template <>
struct action<power_begin> {
  static void apply0(parse_state& st) {
    st.powers.push_back(power_frame{st.operands.size(), {}, {}});
  }
};

template <>
struct action<caret> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.powers.back().carets.push_back(st.where(in));
  }
};

// Counts the '-' signs in a run of unary signs (blanks and comments may sit between them).
template <typename Input>
sign_run read_signs(const Input& in, const parse_state& st) {
  sign_run run;
  const std::string_view text = in.string_view();
  bool in_comment = false;
  for (char c : text) {
    if (in_comment) {
      in_comment = c != '\n';
    } else if (c == '#') {
      in_comment = true;
    } else if (c == '-') {
      ++run.minus_count;
    }
  }
  run.location = st.where(in.begin(), 1);
  return run;
}

template <>
struct action<exponent_signs> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.powers.back().exponent_signs.push_back(read_signs(in, st));
  }
};

template <>
struct action<power> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    power_frame frame = std::move(st.powers.back());
    st.powers.pop_back();
    // `^` is right-associative and an exponent's own signs apply to the rest of the chain
    // (a^-b^c = a^(-(b^c))), so fold from the right.
    const std::size_t base = frame.operand_base;
    expr_id result = st.operands.back();
    for (std::size_t i = frame.carets.size(); i > 0; --i) {
      result = st.negate(frame.exponent_signs[i - 1], result);
      result =
          st.add(expr_kind::power, {}, frame.carets[i - 1], {st.operands[base + i - 1], result});
    }
    st.operands.resize(base);
    st.operands.push_back(result);
  }
};

template <>
struct action<prefix_signs> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.signs.push_back(read_signs(in, st));
  }
};

template <>
struct action<unary> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    const sign_run run = st.signs.back();
    st.signs.pop_back();
    st.operands.push_back(st.negate(run, st.pop()));
  }
};

template <typename Input>
void combine(const Input& in, parse_state& st) {
  const expr_id right = st.pop();
  const expr_id left = st.pop();
  expr_kind kind = expr_kind::add;
  switch (*in.begin()) {
    case '+':
      kind = expr_kind::add;
      break;
    case '-':
      kind = expr_kind::subtract;
      break;
    case '*':
      kind = expr_kind::multiply;
      break;
    case '/':
      kind = expr_kind::divide;
      break;
    default:
      kind = expr_kind::matmul;
      break;
  }
  st.operands.push_back(st.add(kind, {}, st.where(in.begin(), 1), {left, right}));
}

template <>
struct action<mul_tail> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    combine(in, st);
  }
};
template <>
struct action<add_tail> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    combine(in, st);
  }
};

// Arrays ---------------------------------------------------------------------------------------

template <>
struct action<array_open> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.enter(in.begin());
    st.array = array_builder{};
    st.array.location = st.where(in);
    st.array.keep_value_locations = !st.in_data;
  }
};
template <>
struct action<row_open> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.enter(in.begin());
    st.array.row_start = st.array.texts.size();
    st.array.row_locations.push_back(st.where(in));
  }
};
template <>
struct action<array_number> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    const auto at = st.where(in);
    auto n = st.number(in.string_view(), at);
    st.array.texts.push_back(std::move(n.text));
    if (st.array.keep_value_locations) st.array.value_locations.push_back(at);
  }
};
template <>
struct action<row_close> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.leave();
    st.array.row_lengths.push_back(st.array.texts.size() - st.array.row_start);
  }
};
template <>
struct action<array_close> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.leave();
    auto& a = st.array;
    for (std::size_t r = 1; r < a.row_lengths.size(); ++r) {
      if (a.row_lengths[r] != a.row_lengths[0]) {
        st.error(a.row_locations[r],
                 fmt::format("row {} has {} value{} but row 1 has {}", r + 1, a.row_lengths[r],
                             a.row_lengths[r] == 1 ? "" : "s", a.row_lengths[0]),
                 "every row of a matrix to have the same length");
      }
    }
  }
};

array_literal take_array(parse_state& st) {
  array_literal out;
  auto& a = st.array;
  out.location = a.location;
  if (a.row_lengths.empty()) {
    out.shape = {a.texts.size()};
  } else {
    out.shape = {a.row_lengths.size(), a.row_lengths.front()};
  }
  out.values.reserve(a.texts.size());
  for (std::size_t i = 0; i < a.texts.size(); ++i) {
    out.values.push_back(number_literal{
        std::move(a.texts[i]), i < a.value_locations.size() ? a.value_locations[i] : a.location});
  }
  a = array_builder{};
  return out;
}

// Directives -----------------------------------------------------------------------------------

template <>
struct action<kw_precision> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.precision = precision_directive{};
    st.precision.location = st.where(in);
  }
};
template <>
struct action<precision_double> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.precision.binary_double = true;
  }
};
template <>
struct action<precision_digits> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.precision.digits = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<precision_stmt> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.out.statements.emplace_back(std::move(st.precision));
  }
};

template <>
struct action<kw_display> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.display = display_directive{};
    st.display.location = st.where(in);
  }
};
template <>
struct action<display_count> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.display.count = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<unit_digits> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.display.unit = display_unit::digits;
  }
};
template <>
struct action<half_even> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.display.rounding = rounding_mode::half_even;
  }
};
template <>
struct action<half_up> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.display.rounding = rounding_mode::half_up;
  }
};
template <>
struct action<keep_zeros> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.display.keep_zeros = true;
  }
};
template <>
struct action<display_stmt> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.out.statements.emplace_back(std::move(st.display));
  }
};

// Declarations ---------------------------------------------------------------------------------

template <>
struct action<decl_keyword> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    const auto word = in.string_view();
    st.decl_kind = word == "input"    ? declaration_kind::input
                   : word == "target" ? declaration_kind::target
                   : word == "param"  ? declaration_kind::param
                                      : declaration_kind::constant;
  }
};
template <>
struct action<decl_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.decl = declaration{};
    st.decl.kind = st.decl_kind;
    st.decl.name = in.string();
    st.decl.location = st.where(in);
  }
};
template <>
struct action<shape_number> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    const auto at = st.where(in);
    const auto value = detail::whole_number(in.string_view());
    if (!value || *value == 0 || *value > 0xFFFFFFFFu) {
      st.error(at, fmt::format("bad dimension '{}'", in.string_view()),
               "a whole number from 1, as in W[2][3]");
      st.decl.shape.push_back(1);
    } else {
      st.decl.shape.push_back(static_cast<std::size_t>(*value));
    }
    st.decl.shape_locations.push_back(at);
  }
};
template <>
struct action<decl_scalar_value> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.decl.value = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<decl_array_value> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.decl.value = take_array(st);
  }
};
template <>
struct action<decl_item> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.out.statements.emplace_back(std::move(st.decl));
  }
};

// Symbols ---------------------------------------------------------------------------------------

template <>
struct action<symbol_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.symbol = symbol_statement{};
    st.symbol.name = in.string();
    st.symbol.location = st.where(in);
  }
};
template <>
struct action<symbol_text> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    const auto text = in.string_view();
    st.symbol.latex = std::string(text.substr(1, text.size() - 2));
    st.symbol.latex_location = st.where(in);
  }
};
template <>
struct action<symbol_stmt> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.out.statements.emplace_back(std::move(st.symbol));
  }
};

// Train -------------------------------------------------------------------------------------------

template <>
struct action<kw_train> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.train = train_directive{};
    st.train.location = st.where(in);
  }
};
template <>
struct action<objective_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.train.objective = in.string();
    st.train.objective_location = st.where(in);
  }
};
template <>
struct action<optimizer_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.train.optimizer.name = in.string();
    st.train.optimizer.location = st.where(in);
  }
};
template <>
struct action<optimizer_arg_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.train.optimizer.arguments.push_back(named_value{in.string(), st.where(in), {}});
  }
};
template <>
struct action<optimizer_arg_value> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.train.optimizer.arguments.back().value = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<step_count> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.train.count = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<unit_epochs> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.train.unit = step_unit::epochs;
  }
};
template <>
struct action<data_reference> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    if (st.train.data_set) {
      st.error(st.where(in), "the data set is given twice", "one 'on DATA' clause");
    }
    st.train.data_set = in.string();
    st.train.data_set_location = st.where(in);
  }
};
template <>
struct action<kw_batch> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    if (st.train.batch || st.train.batch_full)
      st.error(st.where(in), "the batch size is given twice", "one 'batch' clause");
    st.train.batch_location = st.where(in);
  }
};
template <>
struct action<batch_full_value> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.train.batch_full = true;
  }
};
template <>
struct action<batch_count> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.train.batch = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<kw_reduce> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    if (st.train.reduction)
      st.error(st.where(in), "the batch reduction is given twice", "one 'reduce' clause");
    st.train.reduction_location = st.where(in);
  }
};
template <>
struct action<reduce_sum> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.train.reduction = batch_reduction::sum;
  }
};
template <>
struct action<reduce_mean> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.train.reduction = batch_reduction::mean;
  }
};
template <>
struct action<kw_order> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    if (st.train.order)
      st.error(st.where(in), "the update order is given twice", "one 'order' clause");
    st.train.order_location = st.where(in);
  }
};
template <>
struct action<order_simultaneous> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.train.order = update_order::simultaneous;
  }
};
template <>
struct action<order_sequential> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.train.order = update_order::sequential;
  }
};

template <trace_selector S>
struct trace_action {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    trace_item item;
    item.selector = S;
    item.location = st.where(in);
    if constexpr (S == trace_selector::step || S == trace_selector::every) {
      item.number = st.number(in.string_view(), item.location);
    }
    st.train.trace.push_back(std::move(item));
  }
};
template <>
struct action<trace_first> : trace_action<trace_selector::first> {};
template <>
struct action<trace_last> : trace_action<trace_selector::last> {};
template <>
struct action<trace_all> : trace_action<trace_selector::all> {};
template <>
struct action<trace_none> : trace_action<trace_selector::none> {};
template <>
struct action<trace_every_count> : trace_action<trace_selector::every> {};
template <>
struct action<trace_step> : trace_action<trace_selector::step> {};

template <>
struct action<train_stmt> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.out.statements.emplace_back(std::move(st.train));
  }
};

template <>
struct action<kw_differentiate> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.differentiate = differentiate_directive{};
    st.differentiate.location = st.where(in);
  }
};
template <>
struct action<differentiate_objective> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.differentiate.objective = in.string();
    st.differentiate.objective_location = st.where(in);
    st.out.statements.emplace_back(std::move(st.differentiate));
  }
};

template <>
struct action<kw_evaluate> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.evaluate = evaluate_directive{};
    st.evaluate.location = st.where(in);
  }
};
template <>
struct action<evaluate_quantity> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.evaluate.quantity = in.string();
    st.evaluate.quantity_location = st.where(in);
  }
};
template <>
struct action<evaluate_data> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.evaluate.data_set = in.string();
    st.evaluate.data_set_location = st.where(in);
    st.out.statements.emplace_back(std::move(st.evaluate));
  }
};

// Show ------------------------------------------------------------------------------------------

template <>
struct action<kw_show> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.show = show_directive{};
    st.show.location = st.where(in);
  }
};
template <>
struct action<show_order> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.show_entry = show_item{};
    st.show_entry.order = in.string().substr(1);
    st.show_entry.order_location = st.where(in);
  }
};
template <>
struct action<show_of> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.show_entry.of = in.string();
    st.show_entry.of_location = st.where(in);
  }
};
template <>
struct action<show_wrt> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    show_factor f;
    f.name = in.string();
    f.location = st.where(in);
    st.show_entry.factors.push_back(std::move(f));
  }
};
template <>
struct action<show_power> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.show_entry.factors.back().power = in.string();
    st.show_entry.factors.back().power_location = st.where(in);
  }
};
template <typename Input>
void finish_show_item(const Input& in, parse_state& st) {
  st.show_entry.text = in.string();
  st.show_entry.location = st.where(in);
  st.show.items.push_back(std::move(st.show_entry));
  st.show_entry = show_item{};
}
template <>
struct action<show_item_rule> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    finish_show_item(in, st);
  }
};
template <>
struct action<show_first_item> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    finish_show_item(in, st);
  }
};
template <>
struct action<show_stmt> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.out.statements.emplace_back(std::move(st.show));
  }
};
// Validation and split -----------------------------------------------------------------------

template <>
struct action<validation_reference> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    if (st.train.validation_set) {
      st.error(st.where(in), "the validation set is given twice", "one 'validate on' clause");
    }
    st.train.validation_set = in.string();
    st.train.validation_location = st.where(in);
  }
};
template <>
struct action<validate_every_count> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.train.validate_every = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<validate_unit_steps> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.train.validate_unit = step_unit::steps;
  }
};
template <>
struct action<validate_unit_epochs> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.train.validate_unit = step_unit::epochs;
  }
};
template <>
struct action<kw_patience> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    if (st.train.patience)
      st.error(st.where(in), "the patience is given twice", "one 'patience' clause");
    st.train.patience_location = st.where(in);
  }
};
template <>
struct action<patience_count> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.train.patience = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<kw_restore> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    if (st.train.restore_best)
      st.error(st.where(in), "'restore best' is given twice", "one 'restore best' clause");
    st.train.restore_location = st.where(in);
  }
};
template <>
struct action<restore_best> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.train.restore_best = true;
  }
};

template <>
struct action<kw_split> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.split = split_directive{};
    st.split.location = st.where(in);
  }
};
template <>
struct action<split_source> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.split.source = in.string();
    st.split.source_name_location = st.where(in);
  }
};
template <>
struct action<split_first> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.split.first = in.string();
    st.split.first_location = st.where(in);
  }
};
template <>
struct action<split_second> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.split.second = in.string();
    st.split.second_location = st.where(in);
  }
};
// `ratio R` and `rows N` both give the size of the first part: only one of them, once.
struct first_part_size_keyword {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    if (st.split.ratio || st.split.rows) {
      st.error(st.where(in), "the size of the first part is given twice",
               "one 'ratio R' or 'rows N' clause");
    } else {
      st.split.size_location = st.where(in);
    }
  }
};
template <>
struct action<kw_ratio> : first_part_size_keyword {};
template <>
struct action<split_ratio_value> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.split.ratio = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<kw_rows> : first_part_size_keyword {};
template <>
struct action<split_rows_value> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.split.rows = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<split_seed_value> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    if (st.split.seed)
      st.error(st.where(in), "the shuffle is given twice", "one 'shuffle seed S' clause");
    st.split.seed = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<split_stmt> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.out.statements.emplace_back(std::move(st.split));
  }
};

// Layers ------------------------------------------------------------------------------------------

template <>
struct action<layer_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.layer = layer_statement{};
    st.layer.name = in.string();
    st.layer.location = st.where(in);
  }
};
template <>
struct action<layer_constructor> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.layer.constructor = in.string();
    st.layer.constructor_location = st.where(in);
  }
};
template <>
struct action<layer_keyword_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.layer_keyword.emplace(in.string(), st.where(in));
  }
};

void add_layer_argument(parse_state& st, std::variant<std::string, number_literal, array_literal> v,
                        const source_location& at) {
  layer_argument arg;
  if (st.layer_keyword) {
    arg.keyword = std::move(st.layer_keyword->first);
    arg.keyword_location = st.layer_keyword->second;
    st.layer_keyword.reset();
  }
  arg.value = std::move(v);
  arg.location = at;
  st.layer.arguments.push_back(std::move(arg));
}

template <>
struct action<layer_array_value> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    const auto at = st.where(in.begin(), 1);
    add_layer_argument(st, take_array(st), at);
  }
};
template <>
struct action<layer_number_value> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    const auto at = st.where(in);
    add_layer_argument(st, st.number(in.string_view(), at), at);
  }
};
template <>
struct action<layer_name_value> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    add_layer_argument(st, in.string(), st.where(in));
  }
};
template <>
struct action<layer_call_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    add_layer_argument(st, in.string(), st.where(in));
  }
};
template <>
struct action<layer_call_number> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.layer.arguments.back().call_argument = st.number(in.string_view(), st.where(in));
  }
};
template <>
struct action<dropout_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    action<layer_name>::apply(in, st);
  }
};
template <>
struct action<dropout_constructor> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    action<layer_constructor>::apply(in, st);
  }
};
template <>
struct action<dropout_stmt> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.out.statements.emplace_back(std::move(st.layer));
  }
};
template <>
struct action<layer_stmt> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.out.statements.emplace_back(std::move(st.layer));
  }
};

// Data
// ---------------------------------------------------------------------------------------------

template <>
struct action<kw_data> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.in_data = true;
  }
};
template <>
struct action<data_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.data = data_statement{};
    st.data.name = in.string();
    st.data.location = st.where(in);
  }
};
template <>
struct action<column_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.data.columns.push_back(in.string());
    st.data.column_locations.push_back(st.where(in));
  }
};
template <>
struct action<data_file> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    const auto text = in.string_view();
    st.data.file = std::string(text.substr(1, text.size() - 2));
    st.data.file_location = st.where(in);
  }
};
template <>
struct action<data_rows> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    auto& a = st.array;
    if (a.row_lengths.empty()) {
      st.error(a.location, "inline data must be a list of rows",
               "rows in brackets, as in [[0, 1], [1, 0]]");
    }
    st.data.values = std::move(a.texts);
    st.data.row_lengths = std::move(a.row_lengths);
    st.data.row_locations = std::move(a.row_locations);
    a = array_builder{};
  }
};
template <>
struct action<data_stmt> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    st.in_data = false;
    st.out.statements.emplace_back(std::move(st.data));
  }
};

// Equations ---------------------------------------------------------------------------------------

template <>
struct action<equation_name> {
  template <typename Input>
  static void apply(const Input& in, parse_state& st) {
    st.equation_name = {in.string(), st.where(in)};
  }
};
template <>
struct action<equation> {
  template <typename Input>
  static void apply(const Input& /*in*/, parse_state& st) {
    equation_statement eq;
    eq.name = std::move(st.equation_name.first);
    eq.location = st.equation_name.second;
    eq.value = st.pop();
    st.out.statements.emplace_back(std::move(eq));
  }
};

// ---------------------------------------------------------------------------------------------
// Turning a failure into a diagnostic

constexpr std::array<std::string_view, 14> statement_keywords{
    "precision", "display",       "input", "target", "param",    "const", "symbol",
    "train",     "differentiate", "layer", "data",   "evaluate", "show",  "split"};

bool is_word_char(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// What sits at `offset`, for "unexpected ..." messages, and its length in bytes.
std::pair<std::string, std::size_t> describe_token(std::string_view text, std::size_t offset) {
  if (offset >= text.size()) return {"end of file", 0};
  const char c = text[offset];
  if (c == '\n' || (c == '\r' && offset + 1 < text.size() && text[offset + 1] == '\n')) {
    return {"end of line", 1};
  }
  if (is_word_char(c) || c == '.') {
    std::size_t n = 1;
    while (offset + n < text.size() && (is_word_char(text[offset + n]) || text[offset + n] == '.'))
      ++n;
    return {fmt::format("'{}'", text.substr(offset, n)), n};
  }
  const auto byte = static_cast<unsigned char>(c);
  if (byte < 0x20 || byte == 0x7F) return {fmt::format("control character U+{:04X}", byte), 1};
  std::size_t n = 1;
  if (byte >= 0x80) {
    while (offset + n < text.size() &&
           (static_cast<unsigned char>(text[offset + n]) & 0xC0u) == 0x80u)
      ++n;
  }
  return {fmt::format("'{}'", text.substr(offset, n)), n};
}

diagnostic to_diagnostic(const syntax_failure& f, const detail::source_text& src) {
  const auto [token, length] = describe_token(src.text(), f.offset);
  const auto at = src.location(f.offset, length);
  diagnostic d = src.make(severity::error, at,
                          f.message.empty() ? "unexpected " + token : f.message, f.expected);
  if (f.suggest_keyword) {
    // `paramm w = 1`: the first word was taken as an equation's name; it may be a misspelt
    // directive keyword.
    std::size_t start = src.text().rfind('\n', f.offset == 0 ? 0 : f.offset - 1);
    start = start == std::string_view::npos ? 0 : start + 1;
    while (start < f.offset && (src.text()[start] == ' ' || src.text()[start] == '\t'))
      ++start;
    std::size_t end = start;
    while (end < src.text().size() && is_word_char(src.text()[end]))
      ++end;
    const std::string_view word = src.text().substr(start, end - start);
    if (auto keyword = detail::closest(word, statement_keywords)) {
      diagnostic_note n;
      n.message = fmt::format("did you mean '{}'?", *keyword);
      d.notes.push_back(std::move(n));
    }
  }
  return d;
}

}  // namespace

program parse(std::string_view text, std::string file_name, const parse_limits& limits) {
  const detail::source_text src(file_name, text, "source file", limits.max_file_bytes);
  program out;
  out.file_name = file_name;
  out.source = std::string(text);
  out.expressions = expression_arena(file_name);
  out.end = src.end_location();
  if (text.empty()) {
    throw model_error({diagnostic{severity::error,
                                  source_location{file_name, 0, 0, 1},
                                  "the file is empty",
                                  "at least a train or differentiate directive",
                                  {},
                                  {}}});
  }
  parse_state st(src, out, limits.max_nesting_depth);
  pegtl::memory_input<pegtl::tracking_mode::lazy> in(out.source.data(), out.source.size(),
                                                     file_name);
  st.base = in.begin();
  try {
    pegtl::parse<document, action, control>(in, st);
  } catch (const syntax_failure& f) {
    st.errors.push_back(to_diagnostic(f, src));
    // Inside brackets line breaks are skipped, so an unclosed bracket fails on a later line (or
    // at the end of the file), far from the real mistake; point at the bracket.
    const auto line_of_offset = [&](std::size_t offset) { return src.location(offset).line; };
    if (f.message.empty() && !st.open_brackets.empty() &&
        (f.offset >= text.size() ||
         line_of_offset(f.offset) > line_of_offset(st.open_brackets.back()))) {
      const std::size_t open = st.open_brackets.back();
      st.errors.back().notes.push_back(
          src.note(src.location(open, 1), fmt::format("this '{}' is never closed", text[open])));
    }
    throw model_error(std::move(st.errors));
  }
  if (!st.errors.empty()) throw model_error(std::move(st.errors));
  if (out.statements.empty()) {
    throw model_error({src.make(severity::error, out.end,
                                "the file has no statements (only blank lines and comments)",
                                "at least a train or differentiate directive")});
  }
  return out;
}

program parse_file(const std::filesystem::path& path, const parse_limits& limits) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw model_error({diagnostic{severity::error,
                                  source_location{path.string(), 0, 0, 1},
                                  "cannot open the file",
                                  {},
                                  {},
                                  {}}});
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > limits.max_file_bytes) {
    throw detail::file_too_large(path.string(), "source file", size, limits.max_file_bytes);
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  return parse(buffer.str(), path.string(), limits);
}

checked_model load_model(const std::filesystem::path& path) {
  return check(parse_file(path));
}

}  // namespace chainrule::lang
