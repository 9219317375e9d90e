// SPDX-License-Identifier: MIT
#include "support.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <vector>

namespace trace_test {

using namespace chainrule::trace;

std::map<std::string, std::string> read_reference(const std::string& file) {
  std::ifstream in(std::string(CHAINRULE_REFERENCE_DIR) + "/" + file);
  REQUIRE(in.good());
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto cut = line.find(" = ");
    if (cut != std::string::npos) out[line.substr(0, cut)] = line.substr(cut + 3);
  }
  return out;
}

std::string ref_value(const std::map<std::string, std::string>& ref, const std::string& key) {
  const auto found = ref.find(key);
  INFO("reference key " << key);
  REQUIRE(found != ref.end());
  return found->second;
}

bool agrees(std::string_view actual, std::string_view expected, int digits) {
  using chainrule::mp_real;
  using traits = chainrule::scalar_traits<mp_real>;
  traits::precision_scope scope(200);
  mp_real a = traits::from_decimal(actual, 200);
  mp_real b = traits::from_decimal(expected, 200);
  mp_real diff = a - b;
  diff = abs(diff);
  mp_real scale = abs(b);
  if (scale == 0) scale = 1;
  mp_real tolerance = pow(mp_real(10, 200), -digits);
  tolerance *= scale;
  return diff <= tolerance;
}

namespace {
bool non_commutative(const expr_node& n) {
  return n.op == "sub" || n.op == "div" || n.op == "pow";
}
}  // namespace

std::string render(const document& doc, const expression& e, bool numbers) {
  std::vector<std::string> text(e.nodes.size());
  for (std::size_t i = 0; i < e.nodes.size(); ++i) {
    const expr_node& n = e.nodes[i];
    if (numbers && n.kind != expr_kind::apply && !n.value.empty()) {
      text[i] = n.value.shown;
      continue;
    }
    switch (n.kind) {
      case expr_kind::quantity:
        text[i] = display_name(doc, n.quantity);
        break;
      case expr_kind::derivative:
        text[i] = "d" + display_name(doc, n.of) + "/d" + display_name(doc, n.quantity);
        break;
      case expr_kind::symbol:
      case expr_kind::literal:
        text[i] = n.text;
        break;
      case expr_kind::apply: {
        const auto wrap = [&](std::uint32_t child, bool right) {
          const expr_node& c = e.nodes[child];
          const int p = c.kind == expr_kind::apply ? c.precedence : 5;
          const bool negative_number =
              c.kind != expr_kind::apply && !text[child].empty() && text[child][0] == '-';
          const bool paren =
              n.notation != layout::function &&
              (p < n.precedence || (right && p == n.precedence && non_commutative(n)) ||
               (negative_number && (right || n.notation == layout::prefix || n.op == "pow")));
          return paren ? "(" + text[child] + ")" : text[child];
        };
        std::string out;
        const std::string& t = n.text;
        for (std::size_t k = 0; k < t.size(); ++k) {
          if (t[k] == '#' && k + 1 < t.size()) {
            const char p = t[k + 1];
            if (p == '0' && n.self) {
              out += wrap(*n.self, true);
            } else if (p == 'k' && n.selected) {
              out += wrap(n.args[*n.selected], true);
            } else if (p == '*') {
              for (std::size_t a = 0; a < n.args.size(); ++a)
                out += (a ? ", " : "") + text[n.args[a]];
            } else if (p >= '1' && p <= '9') {
              const std::size_t a = static_cast<std::size_t>(p - '1');
              out += wrap(n.args.at(a), a > 0);
            }
            ++k;
          } else {
            out += t[k];
          }
        }
        text[i] = out;
        break;
      }
    }
  }
  return e.nodes.empty() ? std::string() : text.back();
}

std::string render(const document& doc, const derivative& d) {
  return "d" + display_name(doc, d.of) + "/d" + display_name(doc, d.wrt);
}

}  // namespace trace_test
