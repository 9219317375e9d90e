// SPDX-License-Identifier: MIT
// Matt Mazur's 2-2-2 worked example with the C++ API, at 50 significant digits: the forward pass,
// the gradient of the error with respect to every weight, and one step of gradient descent.
#include <chainrule/engine/engine.hpp>

#include <array>
#include <iostream>

int main() {
  using chainrule::mp_real;
  chainrule::graph<mp_real> g(50);

  auto i1 = g.input("i1", "0.05"), i2 = g.input("i2", "0.10");
  auto t1 = g.input("t1", "0.01"), t2 = g.input("t2", "0.99");
  std::array w = {g.parameter("w1", "0.15"), g.parameter("w2", "0.20"), g.parameter("w3", "0.25"),
                  g.parameter("w4", "0.30"), g.parameter("w5", "0.40"), g.parameter("w6", "0.45"),
                  g.parameter("w7", "0.50"), g.parameter("w8", "0.55")};
  auto b1 = g.constant("b1", "0.35"), b2 = g.constant("b2", "0.60");
  auto half = g.constant("0.5");

  auto out_h1 = sigmoid(w[0] * i1 + w[1] * i2 + b1).named("out_h1");
  auto out_h2 = sigmoid(w[2] * i1 + w[3] * i2 + b1).named("out_h2");
  auto out_o1 = sigmoid(w[4] * out_h1 + w[5] * out_h2 + b2).named("out_o1");
  auto out_o2 = sigmoid(w[6] * out_h1 + w[7] * out_h2 + b2).named("out_o2");
  auto e_o1 = (half * pow(t1 - out_o1, 2)).named("E_o1");
  auto e_o2 = (half * pow(t2 - out_o2, 2)).named("E_o2");
  auto e_total = (e_o1 + e_o2).named("E_total");

  g.backward(e_total);
  const auto nine = chainrule::number_format::decimals(9);
  std::cout << "E_total = " << g.format(e_total.value(), nine) << "\n";
  for (const auto& wk : w) {
    std::cout << "dE_total/d" << wk.name() << " = " << g.format(wk.grad(), nine) << "\n";
  }

  // One step of gradient descent, every gradient taken from the original weights.
  const mp_real learning_rate("0.5");
  std::array<mp_real, 8> updated;
  for (std::size_t k = 0; k < w.size(); ++k)
    updated[k] = w[k].value() - learning_rate * w[k].grad();
  for (std::size_t k = 0; k < w.size(); ++k)
    g.set_value(w[k].id(), updated[k]);
  g.forward();
  std::cout << "E_total after one step = " << g.format(e_total.value(), nine) << "\n";
  std::cout << "the same, to 50 digits  = "
            << g.format(e_total.value(), chainrule::number_format::significant(50)) << "\n";
}
