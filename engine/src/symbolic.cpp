// SPDX-License-Identifier: MIT
#include "chainrule/engine/symbolic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "chainrule/engine/errors.hpp"

namespace chainrule::symbolic {

// ---- builder --------------------------------------------------------------------------------

std::uint32_t builder::number(const rational& value) {
  node n;
  n.type = kind::number;
  n.value = value;
  e_.nodes.push_back(std::move(n));
  return static_cast<std::uint32_t>(e_.nodes.size() - 1);
}

std::uint32_t builder::decimal(std::string_view text) {
  // [-]digits[.digits][e[+-]digits], the forms the engine's exact decimal I/O produces.
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  std::string digits;
  long scale = 0;
  bool seen_point = false;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    if (text[i] == '.') {
      seen_point = true;
    } else if (text[i] >= '0' && text[i] <= '9') {
      digits += text[i];
      if (seen_point) --scale;
    } else {
      throw usage_error("symbolic: '" + std::string(text) + "' is not a decimal number");
    }
  }
  if (i < text.size()) scale += std::stol(std::string(text.substr(i + 1)));
  if (digits.empty())
    throw usage_error("symbolic: '" + std::string(text) + "' is not a decimal number");
  boost::multiprecision::mpz_int mantissa(digits);
  boost::multiprecision::mpz_int ten_power = boost::multiprecision::pow(
      boost::multiprecision::mpz_int(10), static_cast<unsigned>(std::labs(scale)));
  rational value = scale >= 0 ? rational(mantissa * ten_power) : rational(mantissa, ten_power);
  if (negative) value = -value;
  return number(value);
}

std::uint32_t builder::symbol(std::string_view name, std::string_view latex_name) {
  node n;
  n.type = kind::symbol;
  n.name = name;
  n.latex_name = latex_name;
  e_.nodes.push_back(std::move(n));
  return static_cast<std::uint32_t>(e_.nodes.size() - 1);
}

std::uint32_t builder::sum(std::vector<term> terms) {
  node n;
  n.type = kind::sum;
  n.terms = std::move(terms);
  e_.nodes.push_back(std::move(n));
  return static_cast<std::uint32_t>(e_.nodes.size() - 1);
}

std::uint32_t builder::product(rational coefficient, std::vector<factor> factors) {
  node n;
  n.type = kind::product;
  n.value = std::move(coefficient);
  n.factors = std::move(factors);
  e_.nodes.push_back(std::move(n));
  return static_cast<std::uint32_t>(e_.nodes.size() - 1);
}

std::uint32_t builder::function(op o, std::vector<std::uint32_t> arguments) {
  node n;
  n.type = kind::function;
  n.function = o;
  n.arguments = std::move(arguments);
  e_.nodes.push_back(std::move(n));
  return static_cast<std::uint32_t>(e_.nodes.size() - 1);
}

expression builder::finish(std::uint32_t root) && {
  e_.root = root;
  return std::move(e_);
}

// ---- simplify -------------------------------------------------------------------------------

namespace {

/// Builds the simplified expression with hash-consing: structurally equal nodes get one index,
/// so equal terms and factors are found by comparing indices. Sums and products are keyed by
/// their sorted entries (x*y and y*x are one node) but keep the order of the first one made,
/// which is the order the model was written in.
class simplifier {
 public:
  std::uint32_t number(const rational& v) { return intern(make_number(v)); }

  std::uint32_t symbol(const node& n) { return intern(node(n)); }

  std::uint32_t function(op o, std::vector<std::uint32_t> args) {
    if (auto folded = fold(o, args)) return *folded;
    node n;
    n.type = kind::function;
    n.function = o;
    n.arguments = std::move(args);
    return intern(std::move(n));
  }

  std::uint32_t sum(const std::vector<term>& terms) {
    // -(a - b) as written: a negated sum keeps its parentheses (Mazur's -(target - out)).
    if (terms.size() == 1 && out_.nodes[terms.front().child].type == kind::sum) {
      return scaled(terms.front().coefficient, terms.front().child);
    }
    rational constant = 0;
    std::vector<term> collected;
    std::unordered_map<std::uint32_t, std::size_t> position;
    bool constant_seen = false;
    auto add = [&](const rational& c, std::uint32_t child) {
      const node& n = out_.nodes[child];
      if (n.type == kind::number) {
        constant += c * n.value;
        if (!constant_seen) {
          constant_seen = true;
          collected.push_back({0, sentinel});
        }
        return;
      }
      rational scale = c;
      std::uint32_t base = child;
      if (n.type == kind::product && n.value != 1) {
        scale *= n.value;
        base = product_without_coefficient(child);
      }
      const auto found = position.find(base);
      if (found != position.end()) {
        collected[found->second].coefficient += scale;
      } else {
        position.emplace(base, collected.size());
        collected.push_back({scale, base});
      }
    };
    for (const term& t : terms) {
      // A sum inside, directly or as c*(sum), is spliced in: its own terms are never sums.
      rational scale = t.coefficient;
      std::uint32_t child = t.child;
      const node& n = out_.nodes[child];
      if (n.type == kind::product && n.factors.size() == 1 && n.factors.front().exponent == 1 &&
          out_.nodes[n.factors.front().base].type == kind::sum) {
        scale *= n.value;
        child = n.factors.front().base;
      }
      if (out_.nodes[child].type == kind::sum) {
        const std::vector<term> inner = out_.nodes[child].terms;  // `add` may grow out_.nodes
        for (const term& u : inner)
          add(scale * u.coefficient, u.child);
      } else {
        add(t.coefficient, t.child);
      }
    }
    std::vector<term> kept;
    for (const term& t : collected) {
      if (t.child == sentinel) {
        if (constant != 0) kept.push_back({constant, number(constant)});
      } else if (t.coefficient != 0) {
        kept.push_back(t);
      }
    }
    if (kept.empty()) return number(0);
    if (kept.size() == 1) {
      const term& only = kept.front();
      if (out_.nodes[only.child].type == kind::number) return only.child;
      return scaled(only.coefficient, only.child);
    }
    // A number child carries its value in the coefficient; the child is 1 so that evaluation
    // and printing treat every term alike.
    for (term& t : kept) {
      if (out_.nodes[t.child].type == kind::number) t.child = number(1);
    }
    node n;
    n.type = kind::sum;
    n.terms = std::move(kept);
    return intern(std::move(n));
  }

  std::uint32_t product(const rational& coefficient, const std::vector<factor>& factors) {
    rational c = coefficient;
    std::vector<factor> collected;
    std::unordered_map<std::uint32_t, std::size_t> position;
    auto add = [&](std::uint32_t base, long exponent) {
      const node& n = out_.nodes[base];
      if (n.type == kind::number) {
        if (n.value == 0 && exponent < 0) {
          // 1/0 cannot come from a graph that evaluated; keep it visible rather than fold it.
          push(collected, position, base, exponent);
          return;
        }
        c *= power(n.value, exponent);
        return;
      }
      push(collected, position, base, exponent);
    };
    for (const factor& f : factors) {
      const node& n = out_.nodes[f.base];
      if (n.type == kind::product) {
        c *= power(n.value, f.exponent);
        const std::vector<factor> inner = n.factors;
        for (const factor& g : inner)
          add(g.base, g.exponent * f.exponent);
      } else if (n.type == kind::sum && n.terms.size() == 1 && f.exponent == 1) {
        // -x as a factor: its sign joins the coefficient.
        c *= n.terms.front().coefficient;
        add(n.terms.front().child, 1);
      } else {
        add(f.base, f.exponent);
      }
    }
    if (c == 0) return number(0);
    std::vector<factor> kept;
    for (const factor& f : collected) {
      if (f.exponent != 0) kept.push_back(f);
    }
    if (kept.empty()) return number(c);
    if (kept.size() == 1 && kept.front().exponent == 1 && c == 1) return kept.front().base;
    node n;
    n.type = kind::product;
    n.value = c;
    n.factors = std::move(kept);
    return intern(std::move(n));
  }

  expression finish(std::uint32_t root) && {
    out_.root = root;
    return std::move(out_);
  }

 private:
  static constexpr std::uint32_t sentinel = 0xffffffffU;

  static node make_number(const rational& v) {
    node n;
    n.type = kind::number;
    n.value = v;
    return n;
  }

  static rational power(const rational& base, long exponent) {
    rational result = 1;
    const bool invert = exponent < 0;
    for (long k = 0; k < (invert ? -exponent : exponent); ++k)
      result *= base;
    return invert ? rational(1) / result : result;
  }

  static void push(std::vector<factor>& collected,
                   std::unordered_map<std::uint32_t, std::size_t>& position, std::uint32_t base,
                   long exponent) {
    const auto found = position.find(base);
    if (found != position.end()) {
      collected[found->second].exponent += exponent;
    } else {
      position.emplace(base, collected.size());
      collected.push_back({base, exponent});
    }
  }

  /// c * child as a node: a product, or a one-term sum when the child is a sum (so that
  /// -(t1 - out_o1) keeps its parentheses rather than distributing the sign).
  std::uint32_t scaled(const rational& c, std::uint32_t child) {
    if (c == 1) return child;
    const node& n = out_.nodes[child];
    if (n.type == kind::sum) {
      node s;
      s.type = kind::product;
      s.value = c;
      s.factors = {{child, 1}};
      return intern(std::move(s));
    }
    return product(c, {{child, 1}});
  }

  std::uint32_t product_without_coefficient(std::uint32_t child) {
    const node& n = out_.nodes[child];
    if (n.factors.size() == 1 && n.factors.front().exponent == 1) return n.factors.front().base;
    node copy = n;
    copy.value = 1;
    return intern(std::move(copy));
  }

  /// Functions of numbers whose value is an exact rational; others stay as written.
  std::optional<std::uint32_t> fold(op o, const std::vector<std::uint32_t>& args) {
    for (auto a : args) {
      if (out_.nodes[a].type != kind::number) return std::nullopt;
    }
    const rational& x = out_.nodes[args[0]].value;
    switch (o) {
      case op::abs:
        return number(x < 0 ? rational(-x) : x);
      case op::relu:
        return number(x > 0 ? x : rational(0));
      case op::step:
        return number(x >= 0 ? 1 : 0);
      case op::max: {
        const rational& y = out_.nodes[args[1]].value;
        return number(x >= y ? x : y);
      }
      case op::min: {
        const rational& y = out_.nodes[args[1]].value;
        return number(x <= y ? x : y);
      }
      case op::leaky_relu: {
        const rational& alpha = out_.nodes[args[1]].value;
        return number(x > 0 ? x : rational(alpha * x));
      }
      case op::exp:
      case op::cos:
        if (x == 0) return number(1);
        return std::nullopt;
      case op::sin:
      case op::tanh:
      case op::sqrt:
        if (x == 0) return number(0);
        if (o == op::sqrt && x == 1) return number(1);
        return std::nullopt;
      case op::log:
        if (x == 1) return number(0);
        return std::nullopt;
      case op::sigmoid:
        if (x == 0) return number(rational(1, 2));
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }

  static std::string key_of(const node& n) {
    std::string key;
    key += std::to_string(static_cast<int>(n.type));
    key += '|';
    switch (n.type) {
      case kind::number:
        key += n.value.str();
        break;
      case kind::symbol:
        key += n.name;
        break;
      case kind::function:
        key += std::to_string(static_cast<int>(n.function));
        for (auto a : n.arguments)
          key += "," + std::to_string(a);
        break;
      case kind::sum: {
        std::vector<std::string> parts;
        for (const term& t : n.terms)
          parts.push_back(std::to_string(t.child) + "*" + t.coefficient.str());
        std::sort(parts.begin(), parts.end());
        for (const auto& p : parts)
          key += p + ";";
        break;
      }
      case kind::product: {
        key += n.value.str() + ":";
        std::vector<std::string> parts;
        for (const factor& f : n.factors)
          parts.push_back(std::to_string(f.base) + "^" + std::to_string(f.exponent));
        std::sort(parts.begin(), parts.end());
        for (const auto& p : parts)
          key += p + ";";
        break;
      }
    }
    return key;
  }

  std::uint32_t intern(node n) {
    std::string key = key_of(n);
    const auto found = index_.find(key);
    if (found != index_.end()) return found->second;
    out_.nodes.push_back(std::move(n));
    const auto i = static_cast<std::uint32_t>(out_.nodes.size() - 1);
    index_.emplace(std::move(key), i);
    return i;
  }

  expression out_;
  std::unordered_map<std::string, std::uint32_t> index_;
};

}  // namespace

expression simplify(const expression& e) {
  simplifier s;
  std::vector<std::uint32_t> index(e.nodes.size(), 0);
  for (std::size_t i = 0; i < e.nodes.size(); ++i) {
    const node& n = e.nodes[i];
    switch (n.type) {
      case kind::number:
        index[i] = s.number(n.value);
        break;
      case kind::symbol:
        index[i] = s.symbol(n);
        break;
      case kind::function: {
        std::vector<std::uint32_t> args;
        for (auto a : n.arguments)
          args.push_back(index[a]);
        index[i] = s.function(n.function, std::move(args));
        break;
      }
      case kind::sum: {
        std::vector<term> terms;
        for (const term& t : n.terms)
          terms.push_back({t.coefficient, index[t.child]});
        index[i] = s.sum(terms);
        break;
      }
      case kind::product: {
        std::vector<factor> factors;
        for (const factor& f : n.factors)
          factors.push_back({index[f.base], f.exponent});
        index[i] = s.product(n.value, factors);
        break;
      }
    }
  }
  return std::move(s).finish(index[e.root]);
}

// ---- printing -------------------------------------------------------------------------------

namespace {

enum class syntax { plain, latex, c };

// Binding strength of a printed form: a child binding less than its context needs parentheses.
constexpr int binds_sum = 1;
constexpr int binds_product = 2;  // also a leading minus sign
constexpr int binds_power = 3;
constexpr int binds_atom = 4;

struct printed {
  std::string text;
  int binds = binds_atom;
};

/// A rational as a decimal when it terminates ("0.05"), else "p/q"; `binds` tells whether it
/// needs parentheses (a sign or a fraction bar).
printed number_text(const rational& v, syntax s) {
  using boost::multiprecision::mpz_int;
  const mpz_int num = boost::multiprecision::numerator(v);
  const mpz_int den = boost::multiprecision::denominator(v);
  mpz_int rest = den;
  unsigned twos = 0;
  unsigned fives = 0;
  while (rest % 2 == 0) {
    rest /= 2;
    ++twos;
  }
  while (rest % 5 == 0) {
    rest /= 5;
    ++fives;
  }
  printed p;
  const bool negative = num < 0;
  const mpz_int magnitude = negative ? mpz_int(-num) : num;
  if (rest == 1) {
    const unsigned places = std::max(twos, fives);
    const mpz_int scaled = magnitude * boost::multiprecision::pow(mpz_int(10), places) / den;
    std::string digits = scaled.str();
    if (places > 0) {
      if (digits.size() <= places) digits.insert(0, places + 1 - digits.size(), '0');
      digits.insert(digits.size() - places, ".");
    } else if (s == syntax::c) {
      digits += ".0";
    }
    p.text = digits;
  } else if (s == syntax::latex) {
    p.text = "\\frac{" + magnitude.str() + "}{" + den.str() + "}";
  } else if (s == syntax::c) {
    p.text = "(" + magnitude.str() + ".0/" + den.str() + ".0)";
  } else {
    p.text = magnitude.str() + "/" + den.str();
    p.binds = binds_product;
  }
  if (negative) {
    p.text.insert(0, "-");
    p.binds = binds_product;
  }
  return p;
}

std::string latex_symbol(const node& n) {
  if (!n.latex_name.empty()) return n.latex_name;
  return latex_name_of(n.name);
}

}  // namespace

std::string latex_name_of(std::string_view name_text) {
  const std::string name(name_text);
  // t1 -> t_{1}: trailing digits after letters are an index.
  const auto digits_from = name.find_last_not_of("0123456789");
  if (name.find('_') == std::string::npos && digits_from != std::string::npos &&
      digits_from + 1 < name.size()) {
    return name.substr(0, digits_from + 1) + "_{" + name.substr(digits_from + 1) + "}";
  }
  // out_o1 -> out_{o1}; later underscores are escaped.
  std::string out;
  bool subscript = false;
  for (char ch : name) {
    if (ch == '_' && !subscript) {
      out += "_{";
      subscript = true;
    } else if (ch == '_') {
      out += "\\_";
    } else {
      out += ch;
    }
  }
  if (subscript) out += "}";
  return out;
}

namespace {

std::string wrap(const printed& p, int needed, syntax s) {
  if (p.binds >= needed) return p.text;
  return s == syntax::latex ? "\\left(" + p.text + "\\right)" : "(" + p.text + ")";
}

std::string c_function(op o, const std::vector<std::string>& a) {
  switch (o) {
    case op::exp:
      return "exp(" + a[0] + ")";
    case op::log:
      return "log(" + a[0] + ")";
    case op::sqrt:
      return "sqrt(" + a[0] + ")";
    case op::abs:
      return "fabs(" + a[0] + ")";
    case op::sin:
      return "sin(" + a[0] + ")";
    case op::cos:
      return "cos(" + a[0] + ")";
    case op::tanh:
      return "tanh(" + a[0] + ")";
    case op::sigmoid:
      return "(1.0/(1.0 + exp(-(" + a[0] + "))))";
    case op::relu:
      return "((" + a[0] + ") > 0.0 ? (" + a[0] + ") : 0.0)";
    case op::leaky_relu:
      return "((" + a[0] + ") > 0.0 ? (" + a[0] + ") : (" + a[1] + ")*(" + a[0] + "))";
    case op::softplus:
      return "log1p(exp(" + a[0] + "))";
    case op::step:
      return "((" + a[0] + ") >= 0.0 ? 1.0 : 0.0)";
    case op::max:
      return "((" + a[0] + ") >= (" + a[1] + ") ? (" + a[0] + ") : (" + a[1] + "))";
    case op::min:
      return "((" + a[0] + ") <= (" + a[1] + ") ? (" + a[0] + ") : (" + a[1] + "))";
    case op::pow:
      return "pow(" + a[0] + ", " + a[1] + ")";
    case op::logsumexp: {
      std::string inner;
      for (std::size_t k = 0; k < a.size(); ++k)
        inner += (k ? " + exp(" : "exp(") + a[k] + ")";
      return "log(" + inner + ")";
    }
    default:
      throw usage_error("symbolic: no C form for " + std::string(info(o).name));
  }
}

/// The op table's template with #1, #2 and #* replaced by the arguments.
std::string from_template(std::string_view form, const std::vector<std::string>& a) {
  std::string out;
  for (std::size_t i = 0; i < form.size(); ++i) {
    if (form[i] == '#' && i + 1 < form.size()) {
      const char which = form[i + 1];
      if (which == '*') {
        for (std::size_t k = 0; k < a.size(); ++k)
          out += (k ? ", " : "") + a[k];
        ++i;
        continue;
      }
      if (which >= '1' && which <= '9' && static_cast<std::size_t>(which - '1') < a.size()) {
        out += a[static_cast<std::size_t>(which - '1')];
        ++i;
        continue;
      }
    }
    out += form[i];
  }
  return out;
}

printed print_function(const node& n, const std::vector<printed>& p, syntax s) {
  if (n.function == op::pow) {
    const printed& base = p[n.arguments[0]];
    const printed& exponent = p[n.arguments[1]];
    if (s == syntax::c) return {c_function(op::pow, {base.text, exponent.text}), binds_atom};
    if (s == syntax::latex)
      return {"{" + wrap(base, binds_atom, s) + "}^{" + exponent.text + "}", binds_power};
    return {wrap(base, binds_atom, s) + "^" + wrap(exponent, binds_atom, s), binds_power};
  }
  std::vector<std::string> args;
  for (auto a : n.arguments)
    args.push_back(p[a].text);
  if (s == syntax::c) return {c_function(n.function, args), binds_atom};
  const op_info& meta = info(n.function);
  return {from_template(s == syntax::latex ? meta.latex : meta.text, args), binds_atom};
}

std::string power_text(const printed& base, long exponent, syntax s) {
  if (exponent == 1) return wrap(base, binds_product, s);
  if (s == syntax::c) return "pow(" + base.text + ", " + std::to_string(exponent) + ")";
  if (s == syntax::latex)
    return "{" + wrap(base, binds_atom, s) + "}^{" + std::to_string(exponent) + "}";
  return wrap(base, binds_atom, s) + "^" + std::to_string(exponent);
}

printed print_product(const node& n, const std::vector<printed>& p, syntax s) {
  const std::string times = s == syntax::latex ? " \\cdot " : "*";
  std::vector<std::string> top;
  std::vector<std::string> bottom;
  const rational& c = n.value;
  const bool negative = c < 0;
  const rational magnitude = negative ? rational(-c) : c;
  if (magnitude != 1) top.push_back(number_text(magnitude, s).text);
  for (const factor& f : n.factors) {
    if (f.exponent > 0) {
      top.push_back(power_text(p[f.base], f.exponent, s));
    } else {
      bottom.push_back(power_text(p[f.base], -f.exponent, s));
    }
  }
  auto join = [&](const std::vector<std::string>& parts) {
    std::string out;
    for (std::size_t k = 0; k < parts.size(); ++k)
      out += (k ? times : "") + parts[k];
    return out;
  };
  std::string text;
  if (bottom.empty()) {
    text = join(top);
  } else if (s == syntax::latex) {
    text = "\\frac{" + (top.empty() ? std::string("1") : join(top)) + "}{" + join(bottom) + "}";
  } else {
    // Each piece is an atom, a power or already in parentheses: only a product of several needs
    // brackets after the slash.
    const std::string denominator = join(bottom);
    text = (top.empty() ? std::string(s == syntax::c ? "1.0" : "1") : join(top)) + "/" +
           (bottom.size() > 1 ? "(" + denominator + ")" : denominator);
  }
  if (negative) text.insert(0, "-");
  const bool single_atom = !negative && top.size() == 1 && bottom.empty() && n.factors.size() == 1;
  return {text, single_atom && n.factors.front().exponent != 1 ? binds_power : binds_product};
}

printed print_sum(const node& n, const std::vector<node>& nodes, const std::vector<printed>& p,
                  syntax s) {
  std::string text;
  const std::string times = s == syntax::latex ? " \\cdot " : "*";
  for (std::size_t k = 0; k < n.terms.size(); ++k) {
    const term& t = n.terms[k];
    const bool negative = t.coefficient < 0;
    const rational magnitude = negative ? rational(-t.coefficient) : t.coefficient;
    std::string body;
    const node& child = nodes[t.child];
    if (child.type == kind::number && child.value == 1) {
      body = number_text(magnitude, s).text;
    } else if (magnitude == 1) {
      body = wrap(p[t.child], binds_product, s);
    } else {
      body = number_text(magnitude, s).text + times + wrap(p[t.child], binds_product, s);
    }
    if (k == 0) {
      text = (negative ? "-" : "") + body;
    } else {
      text += negative ? " - " : " + ";
      text += body;
    }
  }
  return {text, n.terms.size() == 1 ? binds_product : binds_sum};
}

std::string print(const expression& e, syntax s) {
  if (e.nodes.empty()) throw usage_error("symbolic: an empty expression");
  // Only the nodes the root reaches: simplify() leaves some it made on the way.
  std::vector<std::uint8_t> used(e.nodes.size(), 0);
  used[e.root] = 1;
  for (std::size_t i = e.root + 1; i-- > 0;) {
    if (!used[i]) continue;
    const node& n = e.nodes[i];
    for (auto a : n.arguments)
      used[a] = 1;
    for (const term& t : n.terms)
      used[t.child] = 1;
    for (const factor& f : n.factors)
      used[f.base] = 1;
  }
  std::vector<printed> p(e.nodes.size());
  for (std::size_t i = 0; i <= e.root; ++i) {
    if (!used[i]) continue;
    const node& n = e.nodes[i];
    switch (n.type) {
      case kind::number:
        p[i] = number_text(n.value, s);
        break;
      case kind::symbol:
        p[i] = {s == syntax::latex ? latex_symbol(n) : n.name, binds_atom};
        break;
      case kind::function:
        p[i] = print_function(n, p, s);
        break;
      case kind::sum:
        p[i] = print_sum(n, e.nodes, p, s);
        break;
      case kind::product:
        p[i] = print_product(n, p, s);
        break;
    }
  }
  return p[e.root].text;
}

}  // namespace

std::uint64_t printed_size(const expression& e) {
  if (e.nodes.empty()) return 0;
  constexpr std::uint64_t saturated = std::numeric_limits<std::uint64_t>::max();
  auto add = [](std::uint64_t a, std::uint64_t b) { return b > saturated - a ? saturated : a + b; };
  std::vector<std::uint64_t> size(e.nodes.size(), 0);
  for (std::size_t i = 0; i <= e.root && i < e.nodes.size(); ++i) {
    const node& n = e.nodes[i];
    std::uint64_t total = 1;
    for (auto a : n.arguments)
      total = add(total, size[a]);
    for (const term& t : n.terms)
      total = add(total, size[t.child]);
    for (const factor& f : n.factors)
      total = add(total, size[f.base]);
    size[i] = total;
  }
  return size[e.root];
}

std::string to_text(const expression& e) {
  return print(e, syntax::plain);
}
std::string to_latex(const expression& e) {
  return print(e, syntax::latex);
}
std::string to_c(const expression& e) {
  return print(e, syntax::c);
}

// ---- evaluation -----------------------------------------------------------------------------

double evaluate(const expression& e, const std::function<double(std::string_view)>& value_of) {
  std::vector<double> v(e.nodes.size(), 0.0);
  for (std::size_t i = 0; i <= e.root && i < e.nodes.size(); ++i) {
    const node& n = e.nodes[i];
    switch (n.type) {
      case kind::number:
        v[i] = n.value.convert_to<double>();
        break;
      case kind::symbol:
        v[i] = value_of(n.name);
        break;
      case kind::sum: {
        double total = 0;
        for (const term& t : n.terms)
          total += t.coefficient.convert_to<double>() * v[t.child];
        v[i] = total;
        break;
      }
      case kind::product: {
        double total = n.value.convert_to<double>();
        for (const factor& f : n.factors)
          total *= std::pow(v[f.base], static_cast<double>(f.exponent));
        v[i] = total;
        break;
      }
      case kind::function: {
        const double x = v[n.arguments[0]];
        const double y = n.arguments.size() > 1 ? v[n.arguments[1]] : 0.0;
        switch (n.function) {
          case op::exp:
            v[i] = std::exp(x);
            break;
          case op::log:
            v[i] = std::log(x);
            break;
          case op::sqrt:
            v[i] = std::sqrt(x);
            break;
          case op::abs:
            v[i] = std::fabs(x);
            break;
          case op::sin:
            v[i] = std::sin(x);
            break;
          case op::cos:
            v[i] = std::cos(x);
            break;
          case op::tanh:
            v[i] = std::tanh(x);
            break;
          case op::sigmoid:
            v[i] = 1.0 / (1.0 + std::exp(-x));
            break;
          case op::relu:
            v[i] = x > 0 ? x : 0.0;
            break;
          case op::leaky_relu:
            v[i] = x > 0 ? x : y * x;
            break;
          case op::softplus:
            v[i] = std::log1p(std::exp(x));
            break;
          case op::step:
            v[i] = x >= 0 ? 1.0 : 0.0;
            break;
          case op::max:
            v[i] = x >= y ? x : y;
            break;
          case op::min:
            v[i] = x <= y ? x : y;
            break;
          case op::pow:
            v[i] = std::pow(x, y);
            break;
          case op::logsumexp: {
            double total = 0;
            for (auto a : n.arguments)
              total += std::exp(v[a]);
            v[i] = std::log(total);
            break;
          }
          default:
            throw usage_error("symbolic: cannot evaluate " + std::string(info(n.function).name));
        }
        break;
      }
    }
  }
  return v[e.root];
}

}  // namespace chainrule::symbolic
