// SPDX-License-Identifier: MIT
#include "chainrule/lang/functions.hpp"

#include <algorithm>
#include <array>

namespace chainrule::lang {
namespace {

constexpr std::array<parameter_info, 1> unary_parameters{{{"x", "", false}}};
constexpr std::array<parameter_info, 2> leaky_relu_parameters{
    {{"x", "", false}, {"alpha", "0.01", true}}};
constexpr std::array<parameter_info, 2> binary_ab_parameters{{{"a", "", false}, {"b", "", false}}};
constexpr std::array<parameter_info, 2> pow_parameters{{{"x", "", false}, {"y", "", false}}};

constexpr std::array<parameter_info, 2> loss_ty_parameters{{{"t", "", false}, {"y", "", false}}};
constexpr std::array<parameter_info, 2> loss_tp_parameters{{{"t", "", false}, {"p", "", false}}};
constexpr std::array<parameter_info, 2> loss_ts_parameters{{{"t", "", false}, {"s", "", false}}};
constexpr std::array<parameter_info, 2> sparse_cce_parameters{{{"k", "", true}, {"p", "", false}}};

constexpr function_info unary(std::string_view name, std::string_view form) {
  return {name, function_shape::elementwise, unary_parameters, false, form};
}

constexpr std::array function_table{
    unary("exp", "exp(x)"),
    unary("log", "log(x)"),
    unary("sqrt", "sqrt(x)"),
    unary("abs", "abs(x)"),
    unary("sin", "sin(x)"),
    unary("cos", "cos(x)"),
    unary("tanh", "tanh(x)"),
    unary("sigmoid", "sigmoid(x)"),
    unary("relu", "relu(x)"),
    function_info{"leaky_relu", function_shape::elementwise, leaky_relu_parameters, false,
                  "leaky_relu(x, alpha = 0.01)"},
    unary("softplus", "softplus(x)"),
    unary("step", "step(x)"),
    function_info{"max", function_shape::elementwise, binary_ab_parameters, false, "max(a, b)"},
    function_info{"min", function_shape::elementwise, binary_ab_parameters, false, "min(a, b)"},
    function_info{"pow", function_shape::elementwise, pow_parameters, false, "pow(x, y)"},
    function_info{"sum", function_shape::reduction, {}, true, "sum(a, b, ...)"},
    function_info{"logsumexp", function_shape::reduction, {}, true, "logsumexp(a, b, ...)"},
    function_info{"softmax", function_shape::vector, {}, true, "softmax(a, b, ...)"},
    function_info{"log_softmax", function_shape::vector, {}, true, "log_softmax(a, b, ...)"},
    function_info{"se", function_shape::loss, loss_ty_parameters, false, "se(t, y)"},
    function_info{"half_se", function_shape::loss, loss_ty_parameters, false, "half_se(t, y)"},
    function_info{"mse", function_shape::loss, loss_ty_parameters, false, "mse(t, y)"},
    function_info{"mae", function_shape::loss, loss_ty_parameters, false, "mae(t, y)"},
    function_info{"mape", function_shape::loss, loss_ty_parameters, false, "mape(t, y)"},
    function_info{"bce", function_shape::loss, loss_ty_parameters, false, "bce(t, y)"},
    function_info{"cce", function_shape::loss, loss_tp_parameters, false, "cce(t, p)"},
    function_info{"sparse_cce", function_shape::loss, sparse_cce_parameters, false,
                  "sparse_cce(k, p)"},
    function_info{"hinge", function_shape::loss, loss_ts_parameters, false, "hinge(t, s)"},
    function_info{"l1", function_shape::loss, {}, true, "l1(w, ...)"},
    function_info{"l2", function_shape::loss, {}, true, "l2(w, ...)"},
};

constexpr std::array<optimizer_parameter, 1> sgd_parameters{{{"lr", "0.01"}}};
constexpr std::array<optimizer_parameter, 2> momentum_parameters{
    {{"lr", "0.01"}, {"beta", "0.9", value_range::unit_interval}}};
constexpr std::array<optimizer_parameter, 3> rmsprop_parameters{
    {{"lr", "0.001"}, {"rho", "0.9", value_range::unit_interval}, {"eps", "1e-8"}}};
constexpr std::array<optimizer_parameter, 2> adagrad_parameters{{{"lr", "0.01"}, {"eps", "1e-8"}}};
constexpr std::array<optimizer_parameter, 4> adam_parameters{
    {{"lr", "0.001"},
     {"beta1", "0.9", value_range::unit_interval},
     {"beta2", "0.999", value_range::unit_interval},
     {"eps", "1e-8"}}};
constexpr std::array<optimizer_parameter, 1> perceptron_parameters{{{"lr", "1"}}};

constexpr std::array optimizer_table{
    optimizer_info{"sgd", sgd_parameters, "sgd(lr = 0.01)"},
    optimizer_info{"momentum", momentum_parameters, "momentum(lr = 0.01, beta = 0.9)"},
    optimizer_info{"rmsprop", rmsprop_parameters, "rmsprop(lr = 0.001, rho = 0.9, eps = 1e-8)"},
    optimizer_info{"adagrad", adagrad_parameters, "adagrad(lr = 0.01, eps = 1e-8)"},
    optimizer_info{"adam", adam_parameters,
                   "adam(lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-8)"},
    optimizer_info{"perceptron", perceptron_parameters, "perceptron(lr = 1)"},
};

}  // namespace

std::span<const function_info> functions() noexcept {
  return function_table;
}

const function_info* find_function(std::string_view name) noexcept {
  const auto it = std::find_if(function_table.begin(), function_table.end(),
                               [&](const function_info& f) { return f.name == name; });
  return it == function_table.end() ? nullptr : &*it;
}

std::span<const optimizer_info> optimizers() noexcept {
  return optimizer_table;
}

const optimizer_info* find_optimizer(std::string_view name) noexcept {
  const auto it = std::find_if(optimizer_table.begin(), optimizer_table.end(),
                               [&](const optimizer_info& o) { return o.name == name; });
  return it == optimizer_table.end() ? nullptr : &*it;
}

}  // namespace chainrule::lang
