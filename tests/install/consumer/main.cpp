// SPDX-License-Identifier: MIT
// A tiny program built against an installed chainrule: f(x, y) = x^2 e^y at x = 3, y = 1.
#include <chainrule/engine/engine.hpp>
#include <cstdio>

int main() {
  using namespace chainrule;
  graph<mp_real> g(30);
  const auto x = g.parameter("x", "3");
  const auto y = g.parameter("y", "1");
  const auto f = (x * x * exp(y)).named("f");
  g.backward(f);
  const auto digits30 = number_format::significant(30);
  std::printf("f = %s\n", g.format(f.value(), digits30).c_str());
  std::printf("df/dx = %s\n", g.format(x.adjoint(), digits30).c_str());
  std::printf("df/dy = %s\n", g.format(y.adjoint(), digits30).c_str());

  graph<double> d;
  const auto xd = d.parameter("x", "3");
  const auto fd = xd * xd * exp(d.parameter("y", "1"));
  d.backward(fd);
  std::printf("double df/dx = %s\n",
              d.format(xd.adjoint(), number_format::significant(15)).c_str());
  return 0;
}
