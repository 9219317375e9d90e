// SPDX-License-Identifier: MIT
#include "chainrule/check/answers.hpp"

#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include <fmt/format.h>

namespace chainrule::check {
namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Length of a valid UTF-8 sequence starting at s[i], or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0 && c >= 0xC2)
    n = 2;
  else if ((c & 0xF0) == 0xE0)
    n = 3;
  else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
    n = 4;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// Longer numbers would only make every comparison slow: no model computes more digits.
constexpr std::size_t max_number_characters = 10'000;

// Typed stand-ins for ASCII operators: students paste these from slides and word processors.
constexpr std::string_view partial_sign = "\xE2\x88\x82";  // ∂
constexpr std::string_view minus_sign = "\xE2\x88\x92";    // −
constexpr std::string_view times_sign = "\xC3\x97";        // ×
constexpr std::string_view middle_dot = "\xC2\xB7";        // ·
constexpr std::string_view right_quote = "\xE2\x80\x99";   // ’

/// Scanner over one line, reporting positions as 1-based code-point columns.
class line_parser {
 public:
  line_parser(std::string_view line, std::string_view file, std::uint32_t line_number)
      : text_(line), file_(file), line_(line_number) {}

  std::optional<answer> parse(lang::diagnostic& problem) {
    try {
      return parse_line();
    } catch (const failure& f) {
      problem = f.d;
      return std::nullopt;
    }
  }

 private:
  struct failure {
    lang::diagnostic d;
  };

  std::string_view text_;
  std::string_view file_;
  std::uint32_t line_;
  std::size_t pos_ = 0;
  int depth_ = 0;

  lang::source_location at(std::size_t byte, std::size_t end_byte) const {
    lang::source_location where;
    where.file = std::string(file_);
    where.line = line_;
    where.column = static_cast<std::uint32_t>(code_points(0, byte) + 1);
    where.length =
        static_cast<std::uint32_t>(std::max<std::size_t>(1, code_points(byte, end_byte)));
    return where;
  }
  std::size_t code_points(std::size_t from, std::size_t to) const {
    std::size_t n = 0;
    for (std::size_t i = from; i < to && i < text_.size(); ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++n;
    }
    return n;
  }
  [[noreturn]] void fail(std::size_t byte, std::size_t end_byte, std::string message,
                         std::string expected) const {
    lang::diagnostic d;
    d.location = at(byte, end_byte);
    d.message = std::move(message);
    d.expected = std::move(expected);
    d.source_line = std::string(text_);
    throw failure{std::move(d)};
  }
  // The token starting at `byte` for messages: up to the next blank.
  std::string_view word_at(std::size_t byte) const {
    std::size_t end = byte;
    while (end < text_.size() && text_[end] != ' ' && text_[end] != '\t' && text_[end] != '#')
      ++end;
    if (end == byte && byte < text_.size()) end = byte + 1;
    return text_.substr(byte, end - byte);
  }

  void skip_blanks() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t'))
      ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size() || text_[pos_] == '#'; }
  bool accept(std::string_view s) {
    if (text_.substr(pos_).starts_with(s)) {
      pos_ += s.size();
      return true;
    }
    return false;
  }
  bool peek(std::string_view s) const { return text_.substr(pos_).starts_with(s); }

  std::string name_token() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_]))
      ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  // NAME or NAME[2] or NAME[1][2] (element names of vectors and matrices).
  std::string quantity_name(std::string_view what) {
    skip_blanks();
    const std::size_t start = pos_;
    if (pos_ >= text_.size() || !is_name_start(text_[pos_])) {
      fail(start, start + 1, fmt::format("expected {} here, found '{}'", what, word_at(start)),
           "a name from the model such as 'out_h1'");
    }
    std::string name = name_token();
    while (accept("[")) {
      const std::size_t index_start = pos_;
      while (pos_ < text_.size() && is_digit(text_[pos_]))
        ++pos_;
      if (pos_ == index_start || !accept("]")) {
        fail(index_start, index_start + 1, "expected an element number and ']' after '['",
             "a subscript such as x[2] (or the element's name x_2)");
      }
      name += '_';
      name += text_.substr(index_start, pos_ - 1 - index_start);
    }
    return name;
  }

  // After d or ∂: NAME, or (NAME).
  std::string derivative_operand() {
    skip_blanks();
    if (accept("(")) {
      std::string name = quantity_name("a name");
      skip_blanks();
      if (!accept(")")) {
        fail(pos_, pos_ + 1, "expected ')' after the name", "d(E_total)/d(w5)");
      }
      return name;
    }
    return quantity_name("a name");
  }

  answer_key left_side() {
    answer_key key;
    skip_blanks();
    const std::size_t start = pos_;
    bool derivative = false;
    if (accept(partial_sign)) {
      derivative = true;
      key.of = derivative_operand();
    } else if (peek("d(")) {
      ++pos_;
      derivative = true;
      key.of = derivative_operand();
    } else {
      if (pos_ >= text_.size() || !is_name_start(text_[pos_])) {
        fail(start, start + 1,
             fmt::format("expected a name at the start of the line, found '{}'", word_at(start)),
             "'name = number', e.g. 'out_h1 = 0.5933', 'dE_total/dw5 = 0.0822' or 'w5+ = 0.3589'");
      }
      key.of = quantity_name("a name");
      std::size_t after = pos_;
      while (after < text_.size() && (text_[after] == ' ' || text_[after] == '\t'))
        ++after;
      if (after < text_.size() && text_[after] == '/') {
        if (key.of.size() < 2 || key.of.front() != 'd') {
          fail(start, after, fmt::format("'{}' cannot start a derivative", key.of),
               "a derivative written dE_total/dw5, \u2202E_total/\u2202w5 or d(E_total)/d(w5)");
        }
        key.of.erase(0, 1);
        derivative = true;
      }
    }
    if (derivative) {
      key.kind = answer_kind::derivative;
      skip_blanks();
      if (!accept("/")) {
        fail(pos_, pos_ + 1, "expected '/' in the derivative",
             "dE_total/dw5, \u2202E_total/\u2202w5 or d(E_total)/d(w5)");
      }
      skip_blanks();
      if (accept(partial_sign) || peek("d(")) {
        if (text_[pos_] == 'd') ++pos_;
        key.wrt = derivative_operand();
      } else if (pos_ < text_.size() && text_[pos_] == 'd' && pos_ + 1 < text_.size() &&
                 is_name_start(text_[pos_ + 1])) {
        ++pos_;
        key.wrt = quantity_name("a name");
      } else {
        fail(pos_, pos_ + 1, "expected the variable of the derivative after '/'",
             "dE_total/dw5, \u2202E_total/\u2202w5 or d(E_total)/d(w5)");
      }
    } else {
      skip_blanks();
      if (accept("+") || accept("'") || accept(right_quote)) key.kind = answer_kind::updated;
    }
    skip_blanks();
    if (accept("@")) {
      skip_blanks();
      const std::size_t digits = pos_;
      while (pos_ < text_.size() && is_digit(text_[pos_]))
        ++pos_;
      std::uint64_t n = 0;
      bool too_big = false;
      for (std::size_t i = digits; i < pos_; ++i) {
        if (n > 1'000'000'000) too_big = true;
        n = n * 10 + static_cast<std::uint64_t>(text_[i] - '0');
      }
      if (pos_ == digits || n == 0 || too_big) {
        fail(digits, std::max(pos_, digits + 1), "expected an iteration number after '@'",
             "a whole number from 1, e.g. 'E_total@2' for the forward pass of iteration 2");
      }
      key.iteration = n;
    }
    return key;
  }

  // A decimal number as typed: [+-] (digits [. digits] | . digits) [e [+-] digits].
  // Returns the end; the caller decides whether a sign may precede it.
  std::size_t scan_number(std::size_t start) const {
    std::size_t i = start;
    std::size_t digits = 0;
    while (i < text_.size() && is_digit(text_[i]))
      ++i, ++digits;
    if (i < text_.size() && text_[i] == '.') {
      ++i;
      while (i < text_.size() && is_digit(text_[i]))
        ++i, ++digits;
    }
    if (digits == 0) return start;
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
      std::size_t j = i + 1;
      if (j < text_.size() && (text_[j] == '+' || text_[j] == '-')) ++j;
      const std::size_t exponent = j;
      while (j < text_.size() && is_digit(text_[j]))
        ++j;
      // Four exponent digits reach far beyond any working precision (10,000 digits at most).
      if (j > exponent && j - exponent <= 4) i = j;
    }
    return i;
  }

  // What follows a number must not be letters, digits, points or '%'.
  void check_number_end(std::size_t start, std::size_t end) const {
    if (end - start > max_number_characters) {
      fail(start, end,
           fmt::format("a number of {} characters; answers are checked to at most {}", end - start,
                       max_number_characters),
           "a number as written by hand");
    }
    if (end < text_.size() && text_[end] == '%') {
      fail(start, end + 1,
           fmt::format("'{}%' is a percentage; answers are plain numbers",
                       text_.substr(start, end - start)),
           "the number itself, e.g. 0.5933 for 59.33%");
    }
    if (end < text_.size() &&
        (is_name_char(text_[end]) || text_[end] == '.' || text_[end] == ',')) {
      std::size_t stop = end;
      while (stop < text_.size() &&
             (is_name_char(text_[stop]) || text_[stop] == '.' || text_[stop] == ',' ||
              text_[stop] == '+' || text_[stop] == '-')) {
        ++stop;
      }
      fail(start, stop, fmt::format("bad number '{}'", text_.substr(start, stop - start)),
           "a decimal number such as 0.5933, .5933, -0.0190 or 5.933e-1 (a point, not a comma, "
           "before the decimals)");
    }
  }

  // The result after the last '=': one signed number and nothing else.
  std::string result(std::size_t start_byte, std::size_t end_byte, lang::source_location& where) {
    std::size_t i = start_byte;
    while (i < end_byte && (text_[i] == ' ' || text_[i] == '\t'))
      ++i;
    std::size_t stop = end_byte;
    while (stop > i && (text_[stop - 1] == ' ' || text_[stop - 1] == '\t'))
      --stop;
    if (i == stop) {
      fail(i, i + 1, "expected a number after '='", "a decimal number such as 0.5933");
    }
    std::string sign;
    std::size_t digits = i;
    if (text_[digits] == '-' || text_[digits] == '+') {
      if (text_[digits] == '-') sign = "-";
      ++digits;
    } else if (text_.substr(digits).starts_with(minus_sign)) {
      sign = "-";
      digits += minus_sign.size();
    }
    const std::size_t end = scan_number(digits);
    if (end == digits) {
      fail(i, stop, fmt::format("expected a number, found '{}'", text_.substr(i, stop - i)),
           "a decimal number such as 0.5933, .5933 or 5.933e-1");
    }
    check_number_end(i, end);
    if (end != stop) {
      std::size_t extra = end;
      while (text_[extra] == ' ' || text_[extra] == '\t')
        ++extra;
      fail(extra, stop,
           fmt::format("unexpected '{}' after the number", text_.substr(extra, stop - extra)),
           "one number per line, optionally followed by a # comment");
    }
    where = at(i, stop);
    return sign + std::string(text_.substr(digits, end - digits));
  }

  // ---- working: recursive descent over one line, depth limited by max_working_depth ----
  std::vector<working_node>* out_ = nullptr;
  std::size_t end_ = 0;

  void skip_working_blanks() {
    while (pos_ < end_ && (text_[pos_] == ' ' || text_[pos_] == '\t'))
      ++pos_;
  }
  void emit(working_node::kind op, std::size_t from, std::size_t to, std::string text = {}) {
    out_->push_back({op, std::move(text), at(from, to)});
  }
  bool accept_operator(std::initializer_list<std::string_view> spellings) {
    skip_working_blanks();
    for (const std::string_view s : spellings) {
      if (pos_ < end_ && text_.substr(pos_, end_ - pos_).starts_with(s)) {
        pos_ += s.size();
        return true;
      }
    }
    return false;
  }

  void expression() {
    if (++depth_ > max_working_depth) {
      fail(pos_, pos_ + 1,
           fmt::format("the working nests more than {} levels deep", max_working_depth),
           "fewer parentheses");
    }
    term();
    while (true) {
      const std::size_t op = pos_;
      if (accept_operator({"+"})) {
        term();
        emit(working_node::kind::add, op, op + 1);
      } else if (accept_operator({"-", minus_sign})) {
        term();
        emit(working_node::kind::sub, op, op + 1);
      } else {
        break;
      }
    }
    --depth_;
  }
  void term() {
    unary();
    while (true) {
      skip_working_blanks();
      const std::size_t op = pos_;
      if (accept_operator({"*", times_sign, middle_dot})) {
        unary();
        emit(working_node::kind::mul, op, op + 1);
      } else if (accept_operator({"/"})) {
        unary();
        emit(working_node::kind::div, op, op + 1);
      } else if (pos_ < end_ && text_[pos_] == '(') {
        // 0.5(0.01 - 0.75)^2: juxtaposition multiplies, as on the slides.
        unary();
        emit(working_node::kind::mul, op, op + 1);
      } else {
        break;
      }
    }
  }
  void unary() {
    const std::size_t op = pos_;
    if (accept_operator({"-", minus_sign})) {
      if (++depth_ > max_working_depth) {
        fail(op, op + 1,
             fmt::format("the working nests more than {} levels deep", max_working_depth),
             "fewer signs");
      }
      unary();
      --depth_;
      emit(working_node::kind::neg, op, op + 1);
      return;
    }
    if (accept_operator({"+"})) {
      if (++depth_ > max_working_depth) {
        fail(op, op + 1,
             fmt::format("the working nests more than {} levels deep", max_working_depth),
             "fewer signs");
      }
      unary();
      --depth_;
      return;
    }
    power();
  }
  void power() {
    primary();
    const std::size_t op = pos_;
    if (accept_operator({"^"})) {
      if (++depth_ > max_working_depth) {
        fail(op, op + 1,
             fmt::format("the working nests more than {} levels deep", max_working_depth),
             "fewer powers");
      }
      unary();  // right-associative, and 2^-3 is allowed
      --depth_;
      emit(working_node::kind::pow, op, op + 1);
    }
  }
  void primary() {
    skip_working_blanks();
    const std::size_t start = pos_;
    if (pos_ >= end_) {
      fail(start, start + 1, "the working ends where a number was expected",
           "a number, '(' or a function such as exp(...)");
    }
    if (text_[pos_] == '(') {
      ++pos_;
      expression();
      skip_working_blanks();
      if (!(pos_ < end_ && text_[pos_] == ')')) {
        fail(pos_, pos_ + 1, "expected ')' in the working", "balanced parentheses");
      }
      ++pos_;
      return;
    }
    if (is_digit(text_[pos_]) || text_[pos_] == '.') {
      const std::size_t end = scan_number(pos_);
      if (end == pos_) {
        fail(start, start + 1, fmt::format("bad number '{}'", word_at(start)),
             "a decimal number such as 0.5933");
      }
      check_number_end(start, end);
      pos_ = end;
      emit(working_node::kind::number, start, end, std::string(text_.substr(start, end - start)));
      return;
    }
    if (is_name_start(text_[pos_])) {
      const std::string name = name_token();
      if (name == "e") {
        emit(working_node::kind::euler, start, pos_);
        return;
      }
      static constexpr std::string_view functions[] = {"exp",  "log",     "ln",
                                                       "sqrt", "sigmoid", "tanh"};
      bool known = false;
      for (const std::string_view f : functions)
        known = known || name == f;
      skip_working_blanks();
      if (!known || pos_ >= end_ || text_[pos_] != '(') {
        fail(start, start + name.size(),
             known ? fmt::format("expected '(' after '{}'", name)
                   : fmt::format("'{}' in the working: the working shows numbers, not names", name),
             "numbers, + - * / ^, parentheses, e and the functions exp, log, ln, sqrt, sigmoid, "
             "tanh");
      }
      ++pos_;
      expression();
      skip_working_blanks();
      if (!(pos_ < end_ && text_[pos_] == ')')) {
        fail(pos_, pos_ + 1, fmt::format("expected ')' to close {}(", name),
             "balanced parentheses");
      }
      ++pos_;
      emit(working_node::kind::function, start, start + name.size(), name);
      return;
    }
    fail(start, start + 1, fmt::format("unexpected '{}' in the working", word_at(start)),
         "numbers, + - * / ^, parentheses, e and the functions exp, log, ln, sqrt, sigmoid, tanh");
  }

  working parse_working(std::size_t from, std::size_t to) {
    working w;
    std::size_t a = from;
    while (a < to && (text_[a] == ' ' || text_[a] == '\t'))
      ++a;
    std::size_t b = to;
    while (b > a && (text_[b - 1] == ' ' || text_[b - 1] == '\t'))
      --b;
    if (a == b) fail(a, a + 1, "empty working between two '='", "a formula with numbers");
    w.text = std::string(text_.substr(a, b - a));
    w.location = at(a, b);
    out_ = &w.postfix;
    pos_ = a;
    end_ = b;
    depth_ = 0;
    expression();
    skip_working_blanks();
    if (pos_ != b) {
      fail(pos_, b, fmt::format("unexpected '{}' in the working", text_.substr(pos_, b - pos_)),
           "an operator (+ - * / ^) between numbers");
    }
    out_ = nullptr;
    return w;
  }

  answer parse_line() {
    answer a;
    a.source_line = std::string(text_);
    skip_blanks();
    const std::size_t name_start = pos_;
    a.key = left_side();
    std::size_t name_end = pos_;
    while (name_end > name_start && (text_[name_end - 1] == ' ' || text_[name_end - 1] == '\t')) {
      --name_end;
    }
    a.written = std::string(text_.substr(name_start, name_end - name_start));
    a.name_location = at(name_start, name_end);
    skip_blanks();
    if (!accept("=")) {
      fail(pos_, pos_ + 1,
           at_end() ? fmt::format("expected '=' and a number after '{}'", a.written)
                    : fmt::format("expected '=' after '{}', found '{}'", a.written, word_at(pos_)),
           fmt::format("'{} = number'", a.written));
    }
    std::size_t comment = text_.find('#', pos_);
    if (comment == std::string_view::npos) comment = text_.size();
    // Parts between '=' signs: working stages, then the result.
    std::vector<std::pair<std::size_t, std::size_t>> parts;
    std::size_t from = pos_;
    for (std::size_t i = pos_; i < comment; ++i) {
      if (text_[i] == '=') {
        parts.emplace_back(from, i);
        from = i + 1;
      }
    }
    parts.emplace_back(from, comment);
    a.number = result(parts.back().first, parts.back().second, a.number_location);
    for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
      a.workings.push_back(parse_working(parts[k].first, parts[k].second));
    }
    return a;
  }
};

}  // namespace

std::string to_string(const answer_key& key) {
  std::string s;
  switch (key.kind) {
    case answer_kind::value:
      s = key.of;
      break;
    case answer_kind::derivative:
      s = fmt::format("d{}/d{}", key.of, key.wrt);
      break;
    case answer_kind::updated:
      s = key.of + "+";
      break;
  }
  if (key.iteration != 1) s += fmt::format("@{}", key.iteration);
  return s;
}

answers_file parse_answers(std::string_view text, std::string file_name) {
  answers_file file;
  file.file_name = std::move(file_name);
  auto whole_file_error = [&](std::string message, std::string expected) {
    lang::diagnostic d;
    d.location.file = file.file_name;
    d.location.line = 1;
    d.location.column = 1;
    d.message = std::move(message);
    d.expected = std::move(expected);
    file.diagnostics.push_back(std::move(d));
  };
  if (text.size() > max_answers_bytes) {
    whole_file_error(fmt::format("the file has {} bytes; answers files are limited to {}",
                                 text.size(), max_answers_bytes),
                     "one answer per line, a few hundred lines");
    return file;
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::uint32_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    ++line_number;
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    // Reject bytes that are not text before anything else looks at the line.
    std::optional<std::size_t> bad;
    for (std::size_t i = 0; i < line.size();) {
      const std::size_t n = utf8_length(line, i);
      if (n == 0 || line[i] == '\0') {
        bad = i;
        break;
      }
      i += n;
    }
    if (bad) {
      lang::diagnostic d;
      d.location.file = file.file_name;
      d.location.line = line_number;
      std::size_t column = 1;
      for (std::size_t i = 0; i < *bad; ++i) {
        if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) ++column;
      }
      d.location.column = static_cast<std::uint32_t>(column);
      d.message = line[*bad] == '\0' ? "a NUL byte in the answers" : "invalid UTF-8 in the answers";
      d.expected = "plain text (UTF-8)";
      file.diagnostics.push_back(std::move(d));
      continue;
    }
    std::size_t first = 0;
    while (first < line.size() && (line[first] == ' ' || line[first] == '\t'))
      ++first;
    if (first == line.size() || line[first] == '#') continue;

    line_parser parser(line, file.file_name, line_number);
    lang::diagnostic problem;
    if (std::optional<answer> a = parser.parse(problem)) {
      file.answers.push_back(std::move(*a));
    } else {
      problem.severity = lang::severity::error;
      file.diagnostics.push_back(std::move(problem));
    }
  }
  if (file.answers.empty() && file.diagnostics.empty()) {
    whole_file_error("the answers file has no answers", "one 'name = number' per line");
  }
  return file;
}

answers_file read_answers(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    answers_file file;
    file.file_name = path.string();
    lang::diagnostic d;
    d.location.file = path.string();
    d.message = "cannot read the answers file";
    d.expected = "a readable text file with one 'name = number' per line";
    file.diagnostics.push_back(std::move(d));
    return file;
  }
  std::ostringstream content;
  content << in.rdbuf();
  return parse_answers(content.str(), path.string());
}

}  // namespace chainrule::check
