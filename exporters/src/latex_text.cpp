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
};

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
  if (parts.integer.empty() && parts.fraction.empty()) fail();
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
  while (i < text.size()) {
    const auto [code, length] = decode_utf8(text, i);
    i += length;
    if (code < 0x80) {
      const char c = static_cast<char>(code);
      switch (c) {
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
    for (std::size_t k = 1; k < parts.size(); ++k) {
      if (k > 1) subscript += ',';
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

}  // namespace chainrule::exporters::latex_text
