// SPDX-License-Identifier: MIT
#include "chainrule/exporters/latex_text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace chainrule::exporters::latex_text {
namespace {

constexpr bool is_ascii_letter(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
constexpr bool is_identifier_char(char c) noexcept {
  return is_ascii_letter(c) || is_digit(c) || c == '_';
}

constexpr auto greek_letters = std::to_array<std::pair<std::string_view, std::string_view>>({
    {"alpha", "\\alpha"},     {"beta", "\\beta"},
    {"gamma", "\\gamma"},     {"delta", "\\delta"},
    {"epsilon", "\\epsilon"}, {"varepsilon", "\\varepsilon"},
    {"zeta", "\\zeta"},       {"eta", "\\eta"},
    {"theta", "\\theta"},     {"vartheta", "\\vartheta"},
    {"iota", "\\iota"},       {"kappa", "\\kappa"},
    {"lambda", "\\lambda"},   {"mu", "\\mu"},
    {"nu", "\\nu"},           {"xi", "\\xi"},
    {"pi", "\\pi"},           {"varpi", "\\varpi"},
    {"rho", "\\rho"},         {"varrho", "\\varrho"},
    {"sigma", "\\sigma"},     {"varsigma", "\\varsigma"},
    {"tau", "\\tau"},         {"upsilon", "\\upsilon"},
    {"phi", "\\phi"},         {"varphi", "\\varphi"},
    {"chi", "\\chi"},         {"psi", "\\psi"},
    {"omega", "\\omega"},     {"Gamma", "\\Gamma"},
    {"Delta", "\\Delta"},     {"Theta", "\\Theta"},
    {"Lambda", "\\Lambda"},   {"Xi", "\\Xi"},
    {"Pi", "\\Pi"},           {"Sigma", "\\Sigma"},
    {"Upsilon", "\\Upsilon"}, {"Phi", "\\Phi"},
    {"Psi", "\\Psi"},         {"Omega", "\\Omega"},
});

// Commands a symbol may use: they only typeset math and take at most brace-delimited arguments.
constexpr auto allowed_commands = std::to_array<std::string_view>(
    {// accents
     "acute", "bar", "breve", "check", "ddot", "dot", "grave", "hat", "mathring", "overline",
     "overleftarrow", "overrightarrow", "tilde", "underline", "vec", "widehat", "widetilde",
     // fonts and text
     "boldsymbol", "mathbb", "mathbf", "mathcal", "mathfrak", "mathit", "mathnormal", "mathrm",
     "mathsf", "mathtt", "operatorname", "text", "textbf", "textit", "textnormal", "textrm",
     "textsf", "texttt", "textup",
     // symbols
     "ast", "bot", "bullet", "cdot", "cdots", "circ", "dagger", "ddagger", "ell", "hbar", "imath",
     "infty", "jmath", "langle", "ldots", "lVert", "lvert", "nabla", "partial", "prime", "prod",
     "rangle", "rVert", "rvert", "star", "sum", "times", "top", "wedge", "vee", "oplus", "otimes",
     "odot", "pm", "mp", "sim", "approx", "equiv", "le", "ge", "leq", "geq", "neq", "quad", "qquad",
     "mid", "emptyset"});

enum class danger : std::uint8_t { files, definitions, structure };

constexpr auto refused_commands = std::to_array<std::pair<std::string_view, danger>>({
    {"input", danger::files},
    {"include", danger::files},
    {"includeonly", danger::files},
    {"InputIfFileExists", danger::files},
    {"IfFileExists", danger::files},
    {"openin", danger::files},
    {"openout", danger::files},
    {"read", danger::files},
    {"readline", danger::files},
    {"write", danger::files},
    {"closein", danger::files},
    {"closeout", danger::files},
    {"newread", danger::files},
    {"newwrite", danger::files},
    {"immediate", danger::files},
    {"special", danger::files},
    {"includegraphics", danger::files},
    {"verbatiminput", danger::files},
    {"lstinputlisting", danger::files},
    {"endinput", danger::files},
    {"shipout", danger::files},
    {"def", danger::definitions},
    {"edef", danger::definitions},
    {"gdef", danger::definitions},
    {"xdef", danger::definitions},
    {"let", danger::definitions},
    {"futurelet", danger::definitions},
    {"newcommand", danger::definitions},
    {"renewcommand", danger::definitions},
    {"providecommand", danger::definitions},
    {"DeclareRobustCommand", danger::definitions},
    {"newenvironment", danger::definitions},
    {"renewenvironment", danger::definitions},
    {"catcode", danger::definitions},
    {"csname", danger::definitions},
    {"endcsname", danger::definitions},
    {"expandafter", danger::definitions},
    {"noexpand", danger::definitions},
    {"scantokens", danger::definitions},
    {"makeatletter", danger::definitions},
    {"makeatother", danger::definitions},
    {"everyeof", danger::definitions},
    {"everypar", danger::definitions},
    {"everymath", danger::definitions},
    {"everydisplay", danger::definitions},
    {"uccode", danger::definitions},
    {"lccode", danger::definitions},
    {"loop", danger::definitions},
    {"documentclass", danger::structure},
    {"usepackage", danger::structure},
    {"RequirePackage", danger::structure},
    {"begin", danger::structure},
    {"end", danger::structure},
});

// Control symbols (a backslash and one non-letter) that only print something or add space.
constexpr std::string_view allowed_control_symbols = ",;:! {}_|&%#$";

constexpr std::string_view allowed_plain = "_^'()[]+-*/,.:;!?=<>|~ ";

std::string_view reason(danger d) noexcept {
  switch (d) {
    case danger::files:
      return "which can read or write files";
    case danger::definitions:
      return "which can redefine commands or change how TeX reads text";
    case danger::structure:
      return "which changes the document structure";
  }
  return "";
}

// Decodes one UTF-8 sequence at `text[i]`; returns the code point and its length, or
// {0xFFFD, 1} for a malformed sequence.
std::pair<char32_t, std::size_t> decode_utf8(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  char32_t code = 0;
  if (lead < 0x80) return {lead, 1};
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code = lead & 0x07;
  } else {
    return {0xFFFD, 1};
  }
  if (i + length > text.size()) return {0xFFFD, 1};
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return {0xFFFD, 1};
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr std::array<char32_t, 5> smallest{0, 0, 0x80, 0x800, 0x10000};
  if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
    return {0xFFFD, 1};
  }
  return {code, length};
}

// Greek letters in free text: U+0391..U+03C9 in code point order (final sigma included).
constexpr std::array<std::string_view, 57> greek_by_code_point{
    "A",       "B",          "\\Gamma",  "\\Delta", "E",         "Z",      "H",     "\\Theta",
    "I",       "K",          "\\Lambda", "M",       "N",         "\\Xi",   "O",     "\\Pi",
    "P",       "",           "\\Sigma",  "T",       "\\Upsilon", "\\Phi",  "X",     "\\Psi",
    "\\Omega", "",           "",         "",        "",          "",       "",      "",
    "\\alpha", "\\beta",     "\\gamma",  "\\delta", "\\epsilon", "\\zeta", "\\eta", "\\theta",
    "\\iota",  "\\kappa",    "\\lambda", "\\mu",    "\\nu",      "\\xi",   "o",     "\\pi",
    "\\rho",   "\\varsigma", "\\sigma",  "\\tau",   "\\upsilon", "\\phi",  "\\chi", "\\psi",
    "\\omega"};

// Typographic characters common in titles, and what they are in plain LaTeX.
std::string_view typographic(char32_t c) noexcept {
  switch (c) {
    case 0x2013:
      return "--";
    case 0x2014:
      return "---";
    case 0x2018:
      return "`";
    case 0x2019:
      return "'";
    case 0x201C:
      return "``";
    case 0x201D:
      return "''";
    case 0x2026:
      return "\\dots{}";
    case 0x00D7:
      return "\\ensuremath{\\times}";
    case 0x00B7:
      return "\\ensuremath{\\cdot}";
    case 0x2212:
      return "\\ensuremath{-}";
    default:
      return {};
  }
}

struct decimal_parts {
  bool negative = false;
  std::string_view integer;
  std::string_view fraction;  // without the point
  bool has_point = false;
  std::string_view exponent;  // digits with an optional sign, empty if none
  // Ends in "…": the digits are only those a certified run could guarantee (trace::settings).
  bool uncertified_tail = false;
};

constexpr std::string_view ellipsis = "\xE2\x80\xA6";  // U+2026 in UTF-8

decimal_parts parse_decimal(std::string_view shown) {
  decimal_parts parts;
  std::size_t i = 0;
  const auto fail = [&]() {
    throw std::invalid_argument(fmt::format("'{}' is not a decimal number", shown));
  };
  if (i < shown.size() && (shown[i] == '-' || shown[i] == '+')) {
    parts.negative = shown[i] == '-';
    ++i;
  }
  const std::size_t integer_start = i;
  while (i < shown.size() && is_digit(shown[i]))
    ++i;
  parts.integer = shown.substr(integer_start, i - integer_start);
  if (i < shown.size() && shown[i] == '.') {
    parts.has_point = true;
    const std::size_t fraction_start = ++i;
    while (i < shown.size() && is_digit(shown[i]))
      ++i;
    parts.fraction = shown.substr(fraction_start, i - fraction_start);
  }
  if (shown.substr(i).starts_with(ellipsis)) {
    parts.uncertified_tail = true;
    i += ellipsis.size();
  }
  if (parts.integer.empty() && parts.fraction.empty() && !parts.uncertified_tail) fail();
  if (i < shown.size() && (shown[i] == 'e' || shown[i] == 'E')) {
    const std::size_t exponent_start = ++i;
    if (i < shown.size() && (shown[i] == '-' || shown[i] == '+')) ++i;
    const std::size_t digits_start = i;
    while (i < shown.size() && is_digit(shown[i]))
      ++i;
    if (i == digits_start) fail();
    parts.exponent = shown.substr(exponent_start, i - exponent_start);
  }
  if (i != shown.size()) fail();
  // "…" alone stands for a number none of whose digits is certified: nothing may go with it.
  if (parts.integer.empty() && parts.fraction.empty() &&
      (shown.front() != ellipsis.front() || !parts.exponent.empty()))
    fail();
  return parts;
}

// Appends `digits` in groups of `group`; `from_left` counts groups from the first digit (a
// fraction), otherwise from the last (an integer part).
void append_grouped(std::string& out, std::string_view digits, std::size_t group, bool from_left) {
  const std::size_t n = digits.size();
  for (std::size_t k = 0; k < n; ++k) {
    const bool boundary = from_left ? (k > 0 && k % group == 0) : (k > 0 && (n - k) % group == 0);
    if (boundary) out += "\\,\\allowbreak ";
    out += digits[k];
  }
}

}  // namespace

std::string escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  std::size_t i = 0;
  // A straight double quote becomes TeX's opening or closing quotes in turn: written as is, TeX
  // prints both as a closing quote.
  bool quote_open = false;
  while (i < text.size()) {
    const auto [code, length] = decode_utf8(text, i);
    i += length;
    if (code < 0x80) {
      const char c = static_cast<char>(code);
      switch (c) {
        case '"':
          out += quote_open ? "''" : "``";
          quote_open = !quote_open;
          break;
        case '\\':
          out += "\\textbackslash{}";
          break;
        case '#':
          out += "\\#";
          break;
        case '$':
          out += "\\$";
          break;
        case '%':
          out += "\\%";
          break;
        case '&':
          out += "\\&";
          break;
        case '_':
          out += "\\_";
          break;
        case '{':
          out += "\\{";
          break;
        case '}':
          out += "\\}";
          break;
        case '~':
          out += "\\textasciitilde{}";
          break;
        case '^':
          out += "\\textasciicircum{}";
          break;
        case '<':
          out += "\\textless{}";
          break;
        case '>':
          out += "\\textgreater{}";
          break;
        case '|':
          out += "\\textbar{}";
          break;
        case '\t':
        case '\n':
        case '\r':
          out += ' ';
          break;
        default:
          if (code >= 0x20 && code != 0x7F) out += c;
          break;
      }
      continue;
    }
    if (const std::string_view t = typographic(code); !t.empty()) {
      out += t;
    } else if (code >= 0x0391 && code <= 0x03C9 && !greek_by_code_point[code - 0x0391].empty()) {
      out += "\\ensuremath{";
      out += greek_by_code_point[code - 0x0391];
      out += '}';
    } else if (code >= 0x00A0 && code <= 0x017F) {
      // Latin-1 and Latin Extended-A: LaTeX's default UTF-8 input handles these.
      out += text.substr(i - length, length);
    } else {
      out += '?';
    }
  }
  return out;
}

std::string_view greek_command(std::string_view word) {
  for (const auto& [name, command] : greek_letters) {
    if (name == word) return command;
  }
  return {};
}

std::string default_symbol(std::string_view name) {
  const bool identifier = !name.empty() && !is_digit(name.front()) &&
                          std::all_of(name.begin(), name.end(), is_identifier_char) &&
                          name.front() != '_' && name.back() != '_' &&
                          name.find("__") == std::string_view::npos;
  if (!identifier) return "\\mathrm{" + escape_text(name) + "}";

  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t underscore = name.find('_', start);
    parts.push_back(name.substr(start, underscore - start));
    if (underscore == std::string_view::npos) break;
    start = underscore + 1;
  }
  const auto word = [](std::string_view part) {
    const std::string_view greek = greek_command(part);
    // A command followed by a letter would merge with it, so Greek parts stay a unit.
    return greek.empty() ? std::string(part) : std::string(greek);
  };

  std::string base;
  std::string subscript;
  const std::string_view head = parts.front();
  const std::size_t letters =
      static_cast<std::size_t>(std::find_if(head.begin(), head.end(), is_digit) - head.begin());
  const bool letters_then_digits =
      letters > 0 && letters < head.size() &&
      std::all_of(head.begin() + static_cast<std::ptrdiff_t>(letters), head.end(), is_digit);
  if (parts.size() == 1 && letters_then_digits) {
    base = word(head.substr(0, letters));
    subscript = head.substr(letters);
  } else {
    base = word(head);
    const auto all_digits = [](std::string_view part) {
      return std::all_of(part.begin(), part.end(), is_digit);
    };
    for (std::size_t k = 1; k < parts.size(); ++k) {
      // `net_h_1` reads as net_{h1} and `W_h_1_2` as W_{h1,2}: an index directly after a
      // plain word joins it; other parts are separated by commas.
      const bool joins = k > 1 && all_digits(parts[k]) && !all_digits(parts[k - 1]) &&
                         greek_command(parts[k - 1]).empty();
      if (k > 1 && !joins) subscript += ',';
      subscript += word(parts[k]);
    }
  }
  if (subscript.empty()) return base;
  return base + "_{" + subscript + "}";
}

std::string symbol_problem(std::string_view latex) {
  if (latex.find_first_not_of(" \t") == std::string_view::npos) {
    return "is empty; write the LaTeX to show, for example \"w_{1}\"";
  }
  int depth = 0;
  std::size_t i = 0;
  while (i < latex.size()) {
    const char c = latex[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      return "contains a non-ASCII character; write Greek letters and other symbols as "
             "commands (\\alpha, \\eta, ...)";
    }
    if (byte < 0x20 || byte == 0x7F) {
      return "contains a control character or line break; a symbol is a single line of math";
    }
    if (c == '\\') {
      if (i + 1 >= latex.size()) {
        return "ends with a lone backslash; write a command such as \\alpha or drop the "
               "backslash";
      }
      if (!is_ascii_letter(latex[i + 1])) {
        const char symbol = latex[i + 1];
        if (symbol == '\\') {
          return "contains \\\\ (a line break), which would break the equations it appears in";
        }
        if (allowed_control_symbols.find(symbol) == std::string_view::npos) {
          return fmt::format(
              "uses \\{}, which is not allowed in a symbol; allowed are \\, \\; \\: \\! "
              "\\{{ \\}} \\_ \\| and commands such as \\alpha or \\hat{{w}}",
              symbol);
        }
        i += 2;
        continue;
      }
      std::size_t end = i + 1;
      while (end < latex.size() && is_ascii_letter(latex[end]))
        ++end;
      const std::string_view command = latex.substr(i + 1, end - i - 1);
      for (const auto& [refused, why] : refused_commands) {
        if (command == refused) {
          return fmt::format(
              "uses \\{}, {}; a symbol may only typeset math, for example w_{{1}}, \\hat{{y}} "
              "or \\mathrm{{net}}_{{h1}}",
              command, reason(why));
        }
      }
      if (command.starts_with("pdf")) {
        return fmt::format(
            "uses \\{}, a pdfTeX primitive that can read files or change the PDF; a symbol may "
            "only typeset math",
            command);
      }
      const bool allowed = !greek_command(command).empty() ||
                           std::find(allowed_commands.begin(), allowed_commands.end(), command) !=
                               allowed_commands.end();
      if (!allowed) {
        return fmt::format(
            "uses \\{}, which is not among the commands allowed in symbols (Greek letters, "
            "accents such as \\hat and \\bar, fonts such as \\mathrm, \\mathbf and \\text, and "
            "symbols such as \\partial, \\prime, \\cdot, \\ell)",
            command);
      }
      i = end;
      continue;
    }
    if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth < 0) {
        return fmt::format("has a '}}' without a matching '{{' at character {}", i + 1);
      }
    } else if (c == '^' && i + 1 < latex.size() && latex[i + 1] == '^') {
      return "contains ^^, TeX's character-code escape; write a single ^ followed by the "
             "superscript in braces, for example w^{2}";
    } else if (c == '^' || c == '_') {
      const std::size_t next = latex.find_first_not_of(' ', i + 1);
      if (next == std::string_view::npos || latex[next] == '}' || latex[next] == '^' ||
          latex[next] == '_') {
        return fmt::format("has a '{}' with nothing after it; write for example w{}{{1}}", c, c);
      }
    } else if (c == '$') {
      return "contains $, which would leave math mode; a symbol is already math, so write it "
             "without $";
    } else if (c == '&') {
      return "contains &, which would break the alignment of the equations; use \\& to print "
             "an ampersand";
    } else if (c == '%') {
      return "contains %, which would comment out the rest of the equation; use \\% to print a "
             "percent sign";
    } else if (c == '#') {
      return "contains #, which TeX reserves for macro parameters; use \\# to print it";
    } else if (!is_ascii_letter(c) && !is_digit(c) &&
               allowed_plain.find(c) == std::string_view::npos && c != '"' && c != '@' &&
               c != '`') {
      return fmt::format("contains '{}', which is not allowed in a symbol", c);
    }
    ++i;
  }
  if (depth > 0) {
    return fmt::format("has {} '{{' without a matching '}}'", depth);
  }
  return {};
}

void validate_symbol(std::string_view name, std::string_view latex) {
  if (std::string problem = symbol_problem(latex); !problem.empty()) {
    throw symbol_error(fmt::format("symbol for '{}' {}", name, problem));
  }
}

std::string with_superscript(std::string_view symbol, std::string_view superscript) {
  int depth = 0;
  bool has_superscript = false;
  for (std::size_t i = 0; i < symbol.size(); ++i) {
    const char c = symbol[i];
    if (c == '\\') {
      ++i;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      --depth;
    } else if (depth == 0 && (c == '^' || c == '\'')) {
      has_superscript = true;
    }
  }
  if (has_superscript) return fmt::format("{{{}}}^{{{}}}", symbol, superscript);
  return fmt::format("{}^{{{}}}", symbol, superscript);
}

bool is_negative(std::string_view shown) noexcept {
  return !shown.empty() && shown[0] == '-';
}

bool is_long_number(std::string_view shown, const number_format& format) {
  const std::size_t digits =
      static_cast<std::size_t>(std::count_if(shown.begin(), shown.end(), is_digit));
  return digits > format.plain_digits;
}

std::string math_number(std::string_view shown, const number_format& format) {
  const decimal_parts parts = parse_decimal(shown);
  if (parts.integer.empty() && parts.fraction.empty()) return "\\ldots";
  std::string out;
  out.reserve(shown.size() * 2);
  if (parts.negative) out += '-';
  const bool long_number = is_long_number(shown, format) && format.group > 0;
  if (!long_number) {
    out += parts.integer.empty() ? "0" : parts.integer;
    if (parts.has_point && !parts.fraction.empty()) {
      out += '.';
      out += parts.fraction;
    }
  } else {
    append_grouped(out, parts.integer.empty() ? "0" : parts.integer, format.group, false);
    if (parts.has_point && !parts.fraction.empty()) {
      out += '.';
      append_grouped(out, parts.fraction, format.group, true);
    }
  }
  if (parts.uncertified_tail) out += "\\ldots";
  if (!parts.exponent.empty()) {
    std::string_view exponent = parts.exponent;
    const bool minus = exponent.front() == '-';
    if (exponent.front() == '-' || exponent.front() == '+') exponent.remove_prefix(1);
    while (exponent.size() > 1 && exponent.front() == '0')
      exponent.remove_prefix(1);
    out += fmt::format(" \\times 10^{{{}{}}}", minus ? "-" : "", exponent);
  }
  return out;
}

std::string plot_number(std::string_view shown, std::size_t significant) {
  const decimal_parts parts = parse_decimal(shown);
  if (parts.integer.empty() && parts.fraction.empty()) return "nan";
  std::string digits = std::string(parts.integer) + std::string(parts.fraction);
  const std::size_t first = digits.find_first_not_of('0');
  std::size_t kept_until = first == std::string::npos ? digits.size() : first + significant;
  for (std::size_t k = kept_until; k < digits.size(); ++k)
    digits[k] = '0';
  std::string out = parts.negative ? "-" : "";
  const std::string integer = digits.substr(0, parts.integer.size());
  out += integer.empty() ? "0" : integer;
  std::string fraction = digits.substr(parts.integer.size());
  while (!fraction.empty() && fraction.back() == '0')
    fraction.pop_back();
  if (!fraction.empty()) out += "." + fraction;
  if (!parts.exponent.empty()) out += "e" + std::string(parts.exponent);
  if (out == "-0") out = "0";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Formulas

namespace {

using form = formula_style::form;

constexpr int additive = 1;
constexpr int multiplicative = 2;
constexpr int unary = 3;
constexpr int power = 4;
constexpr int atom = 5;

// What a placeholder touches on one side, as far as parentheses are concerned.
enum class neighbour : std::uint8_t {
  open,           // start, '(', '[', ',', '{' (a delimited position), '\left(' ...
  plus,           // '+', '?', ':', comparison
  binary_minus,   // '-' after an operand
  unary_minus,    // '-' at the start or after an opening bracket
  times,          // '*', '\cdot', juxtaposition with a bracket or command
  divide,         // '/'
  power_base,     // followed by '^' or '}^'
  exponent,       // after a bare '^'
  function_name,  // after a command such as '\ln' without a bracket
};

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t';
}

// The neighbour on the left of position `at` (the '#').
neighbour left_of(std::string_view t, std::size_t at) {
  std::size_t i = at;
  while (i > 0 && is_space(t[i - 1]))
    --i;
  // Thin spaces such as `\,` are layout, not operators.
  while (i >= 2 && t[i - 2] == '\\' && (t[i - 1] == ',' || t[i - 1] == ';' || t[i - 1] == '!')) {
    i -= 2;
    while (i > 0 && is_space(t[i - 1]))
      --i;
  }
  if (i == 0) return neighbour::open;
  const char c = t[i - 1];
  switch (c) {
    case '(':
    case '[':
    case ',':
      return neighbour::open;
    case '{':
      // `^{#2}`, `\frac{#1}{#2}`, `\sqrt{#1}` and `{#1}` all delimit their content.
      return neighbour::open;
    case '+':
    case '?':
    case ':':
    case '<':
    case '>':
    case '=':
      return neighbour::plus;
    case '*':
      return neighbour::times;
    case '/':
      return neighbour::divide;
    case '^':
      return neighbour::exponent;
    case '-': {
      std::size_t k = i - 1;
      while (k > 0 && is_space(t[k - 1]))
        --k;
      if (k == 0) return neighbour::unary_minus;
      const char before = t[k - 1];
      if (before == '(' || before == '[' || before == '{' || before == ',' || before == '?' ||
          before == ':') {
        return neighbour::unary_minus;
      }
      return neighbour::binary_minus;
    }
    default:
      break;
  }
  if (is_ascii_letter(c)) {
    // A command (`\cdot`, `\ln`, `\left(` has '(' last and was handled above) or a name.
    std::size_t k = i;
    while (k > 0 && is_ascii_letter(t[k - 1]))
      --k;
    const std::string_view word = t.substr(k, i - k);
    if (k > 0 && t[k - 1] == '\\') {
      if (word == "cdot" || word == "times") return neighbour::times;
      return neighbour::function_name;
    }
    return neighbour::times;
  }
  if (c == ')' || c == ']' || c == '}' || is_digit(c)) return neighbour::times;
  return neighbour::times;
}

// The neighbour on the right of the placeholder ending just before `at`.
neighbour right_of(std::string_view t, std::size_t at) {
  std::size_t i = at;
  while (i < t.size() && is_space(t[i]))
    ++i;
  while (i + 1 < t.size() && t[i] == '\\' &&
         (t[i + 1] == ',' || t[i + 1] == ';' || t[i + 1] == '!')) {
    i += 2;
    while (i < t.size() && is_space(t[i]))
      ++i;
  }
  if (i >= t.size()) return neighbour::open;
  const char c = t[i];
  switch (c) {
    case ')':
    case ']':
    case ',':
      return neighbour::open;
    case '}':
      if (i + 1 < t.size() && (t[i + 1] == '^' || t[i + 1] == '\'')) return neighbour::power_base;
      return neighbour::open;
    case '+':
    case '-':
    case '?':
    case ':':
    case '<':
    case '>':
    case '=':
      return neighbour::plus;
    case '*':
    case '/':
      return neighbour::times;
    case '^':
    case '\'':
      return neighbour::power_base;
    case '\\': {
      std::size_t k = i + 1;
      while (k < t.size() && is_ascii_letter(t[k]))
        ++k;
      const std::string_view word = t.substr(i + 1, k - i - 1);
      if (word == "right") return neighbour::open;
      if (word == "le" || word == "ge" || word == "leq" || word == "geq" || word == "neq") {
        return neighbour::plus;
      }
      return neighbour::times;
    }
    default:
      return neighbour::times;
  }
}

// The least precedence an argument needs at this position to go without parentheses.
int required_precedence(neighbour left, neighbour right) {
  const auto need = [](neighbour n, bool on_left) {
    switch (n) {
      case neighbour::open:
        return 0;
      case neighbour::plus:
        return additive;
      case neighbour::binary_minus:
        return on_left ? additive + 1 : additive;
      case neighbour::unary_minus:
        return multiplicative;
      case neighbour::times:
        return multiplicative;
      case neighbour::divide:
        return on_left ? multiplicative + 1 : multiplicative;
      case neighbour::power_base:
      case neighbour::exponent:
        return atom;
      case neighbour::function_name:
        return power;
    }
    return atom;
  };
  return std::max(need(left, true), need(right, false));
}

bool is_operator(neighbour n) {
  return n == neighbour::plus || n == neighbour::binary_minus || n == neighbour::unary_minus ||
         n == neighbour::times || n == neighbour::divide || n == neighbour::exponent ||
         n == neighbour::function_name;
}

std::string place(const rendered_node& arg, neighbour left, neighbour right, form templates) {
  const bool starts_negative = !arg.text.empty() && arg.text.front() == '-';
  // A negative number is bracketed before '*', '/' and '^' too: (-0.2)*0 rather than -0.2*0,
  // which would need brackets as a whole once it follows a '+'.
  const bool factor =
      right == neighbour::times || right == neighbour::divide || right == neighbour::power_base;
  const bool parenthesise = arg.precedence < required_precedence(left, right) ||
                            (starts_negative && (is_operator(left) || factor) &&
                             (arg.number || is_operator(left) || right == neighbour::power_base));
  if (!parenthesise) return arg.text;
  if (templates == form::latex) return "\\left(" + arg.text + "\\right)";
  return "(" + arg.text + ")";
}

// Function names of the plain-text templates, as LaTeX.
std::string text_function(std::string_view name) {
  if (name == "sigmoid") return "\\sigma";
  if (name == "exp") return "\\exp";
  if (name == "log") return "\\ln";
  if (name == "tanh" || name == "sin" || name == "cos" || name == "max" || name == "min") {
    return "\\" + std::string(name);
  }
  std::string escaped;
  for (char c : name) {
    if (c == '_') escaped += '\\';
    escaped += c;
  }
  return "\\operatorname{" + escaped + "}";
}

// A plain-text template (`#2*#1^(#2 - 1)`) as linear LaTeX (`#2 \cdot #1^{#2 - 1}`). One pass
// with a stack of open brackets, so nesting depth costs no recursion.
std::string inline_template(std::string_view t) {
  std::string out;
  std::vector<bool> exponent_brackets;  // per open '(': does it hold an exponent?
  std::size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '#' && i + 1 < t.size()) {
      out += t.substr(i, 2);
      i += 2;
    } else if (c == '*') {
      out += " \\cdot ";
      ++i;
    } else if (c == '^') {
      ++i;
      out += "^{";
      if (i < t.size() && t[i] == '(') {
        // `^(#2 - 1)`: the brackets become the exponent's braces.
        exponent_brackets.push_back(true);
        ++i;
      } else if (i + 1 < t.size() && t[i] == '#') {
        out += t.substr(i, 2);
        out += '}';
        i += 2;
      } else {
        while (i < t.size() && (is_digit(t[i]) || t[i] == '.'))
          out += t[i++];
        out += '}';
      }
    } else if (c == '(') {
      exponent_brackets.push_back(false);
      out += c;
      ++i;
    } else if (c == ')') {
      const bool exponent = !exponent_brackets.empty() && exponent_brackets.back();
      if (!exponent_brackets.empty()) exponent_brackets.pop_back();
      out += exponent ? '}' : ')';
      ++i;
    } else if (c == '>' && i + 1 < t.size() && t[i + 1] == '=') {
      out += "\\ge ";
      i += 2;
    } else if (c == '<' && i + 1 < t.size() && t[i + 1] == '=') {
      out += "\\le ";
      i += 2;
    } else if (is_ascii_letter(c) || c == '_') {
      std::size_t k = i;
      while (k < t.size() && is_identifier_char(t[k]))
        ++k;
      out += text_function(t.substr(i, k - i));
      i = k;
    } else {
      out += c;
      ++i;
    }
  }
  // An unclosed exponent bracket in a malformed template still gets its brace.
  for (bool exponent : exponent_brackets) {
    if (exponent) out += '}';
  }
  return out;
}

std::string quantity_text(const formula_style& style, trace::quantity_index q) {
  if (style.symbols != nullptr && q < style.symbols->size()) return (*style.symbols)[q];
  return style.templates == form::text ? "#" + std::to_string(q) : "q_{" + std::to_string(q) + "}";
}

std::string number_text(const formula_style& style, std::string_view shown) {
  if (style.templates == form::text) return std::string(shown);
  return math_number(shown, style.numbers_format);
}

// Replaces the placeholders of `t` with the rendered arguments.
std::string fill(std::string_view t, const trace::expr_node& node,
                 const std::vector<rendered_node>& done, form templates) {
  const auto arg = [&](std::size_t k) -> const rendered_node& {
    static const rendered_node missing{"?", atom};
    return k < node.args.size() ? done[node.args[k]] : missing;
  };
  std::string out;
  std::size_t i = 0;
  while (i < t.size()) {
    if (t[i] != '#' || i + 1 >= t.size()) {
      out += t[i++];
      continue;
    }
    const char which = t[i + 1];
    const neighbour left = left_of(t, i);
    const neighbour right = right_of(t, i + 2);
    if (which == '*') {
      for (std::size_t k = 0; k < node.args.size(); ++k) {
        if (k > 0) out += ", ";
        out += arg(k).text;
      }
    } else if (which == '0') {
      const rendered_node self = node.self ? done[*node.self] : rendered_node{"?", atom};
      out += place(self, left, right, templates);
    } else if (which == 'k') {
      out += place(arg(node.selected.value_or(0)), left, right, templates);
    } else if (is_digit(which)) {
      out += place(arg(static_cast<std::size_t>(which - '1')), left, right, templates);
    } else {
      out += t.substr(i, 2);
    }
    i += 2;
  }
  return out;
}

bool is_sum(const trace::expr_node& n) {
  return n.kind == trace::expr_kind::apply && n.args.size() == 2 &&
         (n.op == "add" || n.op == "sub");
}

}  // namespace

std::string derivative_symbol(const std::string& of, const std::string& wrt, form templates) {
  if (templates == form::text) return "d" + of + "/d" + wrt;
  return "\\frac{\\partial " + of + "}{\\partial " + wrt + "}";
}

std::vector<rendered_node> render_nodes(const trace::expression& e, const formula_style& style) {
  std::vector<rendered_node> done;
  done.reserve(e.nodes.size());
  for (const trace::expr_node& node : e.nodes) {
    rendered_node r;
    const bool substitute =
        style.numbers && !node.value.shown.empty() && node.kind != trace::expr_kind::apply;
    if (substitute) {
      r.text = number_text(style, node.value.shown);
      r.number = true;
      done.push_back(std::move(r));
      continue;
    }
    switch (node.kind) {
      case trace::expr_kind::quantity:
        r.text = quantity_text(style, node.quantity);
        break;
      case trace::expr_kind::derivative:
        r.text = derivative_symbol(quantity_text(style, node.of),
                                   node.quantity == style.loss && node.of == style.loss
                                       ? style.parameter_symbol
                                       : quantity_text(style, node.quantity),
                                   style.templates);
        if (style.templates == form::text) r.precedence = multiplicative;
        break;
      case trace::expr_kind::symbol:
        r.text = style.templates == form::text || node.latex.empty() ? node.text : node.latex;
        break;
      case trace::expr_kind::literal:
        r.text = number_text(style, node.text);
        r.number = true;
        break;
      case trace::expr_kind::apply: {
        if (node.op == "sum") {
          // Written out as a + b + c, as a textbook does, rather than sum(a, b, c).
          for (std::size_t k = 0; k < node.args.size(); ++k) {
            if (k > 0) r.text += " + ";
            r.text += place(done[node.args[k]], k == 0 ? neighbour::open : neighbour::plus,
                            neighbour::plus, style.templates);
          }
          r.precedence = additive;
          break;
        }
        std::string t;
        if (style.templates == form::latex && !node.latex.empty()) {
          t = node.latex;
        } else if (style.templates == form::inline_latex) {
          t = inline_template(node.text);
        } else {
          t = node.text;
        }
        r.text = fill(t, node, done, style.templates);
        r.precedence = node.precedence;
        break;
      }
    }
    done.push_back(std::move(r));
  }
  return done;
}

std::string render_formula(const trace::expression& e, const formula_style& style) {
  if (e.empty()) return {};
  return render_nodes(e, style).back().text;
}

std::vector<std::string> render_terms(const trace::expression& e, const formula_style& style) {
  if (e.empty()) return {};
  const std::vector<rendered_node> done = render_nodes(e, style);
  // Walk down the left spine of a + b - c + d, collecting the right-hand terms.
  std::vector<std::string> reversed;
  std::uint32_t at = e.root();
  while (is_sum(e.nodes[at]) && !(style.numbers && !e.nodes[at].value.shown.empty() &&
                                  e.nodes[at].kind != trace::expr_kind::apply)) {
    const trace::expr_node& n = e.nodes[at];
    const bool minus = n.op == "sub";
    const neighbour left = minus ? neighbour::binary_minus : neighbour::plus;
    reversed.push_back((minus ? "- " : "+ ") +
                       place(done[n.args[1]], left, neighbour::plus, style.templates));
    at = n.args[0];
  }
  if (e.nodes[at].kind == trace::expr_kind::apply && e.nodes[at].op == "sum") {
    const trace::expr_node& n = e.nodes[at];
    for (std::size_t k = n.args.size(); k-- > 0;) {
      const std::string term = place(done[n.args[k]], k == 0 ? neighbour::open : neighbour::plus,
                                     neighbour::plus, style.templates);
      reversed.push_back(k == 0 ? term : "+ " + term);
    }
  } else {
    reversed.push_back(place(done[at], neighbour::open, neighbour::plus, style.templates));
  }
  return {reversed.rbegin(), reversed.rend()};
}

std::size_t math_width(std::string_view latex) {
  // Weights in tenths of a character: scripts are smaller, fraction parts stack.
  struct group {
    int depth;
    int weight;
  };
  std::vector<group> groups;
  int weight = 10;
  int depth = 0;
  int pending_weight = 10;  // the weight of the next group to open
  std::size_t tenths = 0;
  std::size_t frac_parts = 0;
  for (std::size_t i = 0; i < latex.size(); ++i) {
    const char c = latex[i];
    if (c == '\\') {
      std::size_t k = i + 1;
      while (k < latex.size() && is_ascii_letter(latex[k]))
        ++k;
      const std::string_view word = latex.substr(i + 1, k - i - 1);
      if (word == "frac") {
        frac_parts = 2;
        pending_weight = weight / 2;
      } else if (word == "left" || word == "right" || word == "allowbreak" || word.empty()) {
        // Sizing and break hints take no room of their own; `\,` is a thin space.
      } else {
        tenths += static_cast<std::size_t>(weight);
      }
      i = word.empty() ? i + 1 : k - 1;
      continue;
    }
    if (c == '{') {
      groups.push_back({depth, weight});
      ++depth;
      if (frac_parts > 0) {
        weight = pending_weight;
        --frac_parts;
      } else {
        weight = pending_weight;
      }
      pending_weight = weight;
      continue;
    }
    if (c == '}') {
      if (!groups.empty()) {
        weight = groups.back().weight;
        groups.pop_back();
      }
      --depth;
      pending_weight = frac_parts > 0 ? pending_weight : weight;
      continue;
    }
    if (c == '_' || c == '^') {
      pending_weight = weight * 7 / 10;
      continue;
    }
    if (c == ' ') continue;
    tenths += static_cast<std::size_t>(weight);
    pending_weight = frac_parts > 0 ? pending_weight : weight;
  }
  return (tenths + 9) / 10;
}

}  // namespace chainrule::exporters::latex_text
