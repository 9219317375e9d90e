// SPDX-License-Identifier: MIT
// Optimizers: the update rules that turn gradients into new parameter values.
//
// Each optimizer is described by a table (hyper-parameters with their symbols, and the update rule
// as lines `lhs <- rhs` in postfix tokens over engine ops) and implemented by optimizer<Real>,
// which keeps every state number preallocated at the working precision and updates with one
// arithmetic operation per statement, so a training step at MPFR precision allocates nothing.
// The tables let a trace print the rule and the value of every line (velocities, moments, bias
// corrections) without knowing the optimizers itself.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "chainrule/engine/errors.hpp"
#include "chainrule/engine/mpfr.hpp"
#include "chainrule/engine/op.hpp"
#include "chainrule/engine/scalar.hpp"

namespace chainrule {

/// simultaneous: every gradient comes from the same forward and backward pass, then all parameters
/// are updated. sequential: the textbook variant that updates the last layer first and recomputes
/// the earlier layers' gradients with the already updated later weights (forward values unchanged).
enum class update_order : std::uint8_t { simultaneous, sequential };

enum class optimizer_kind : std::uint8_t { sgd, momentum, rmsprop, adagrad, adam, perceptron };

/// An optimizer chosen by name, with hyper-parameters as exact decimal text. A hyper-parameter
/// left out takes its default (optimizer_description::hyper).
struct optimizer_config {
  std::string name = "sgd";
  std::vector<std::pair<std::string, std::string>> arguments;
};

/// One token of an update rule's right-hand side, in postfix order.
struct rule_token {
  enum class kind : std::uint8_t {
    name,      ///< "w" the parameter, "g" dE/dw, "t" the step number (1-based), a hyper-parameter,
               ///< an earlier or the same line's lhs (the same line: its previous value), or for
               ///< the perceptron "d" (target), "y" (output), "x" (the input feeding w, d net/dw)
    literal,   ///< an exact decimal ("1", "2")
    operation  ///< pops info(operation).arity operands, pushes the result
  };
  kind what = kind::name;
  std::string_view text;
  op operation = op::add;
};

/// `lhs <- rhs`. The last line of a rule updates the parameter (its lhs is "w").
struct rule_line_description {
  std::string_view lhs;
  std::string_view lhs_latex;  ///< "v", "\\hat{m}"
  std::span<const rule_token> rhs;
  /// Kept from one step to the next (velocity, moments, accumulated squares), starting at 0.
  bool persistent = false;
};

struct hyper_parameter_description {
  std::string_view name;           ///< as in the language: "lr", "beta1"
  std::string_view default_value;  ///< exact decimal text
  std::string_view text;           ///< plain-text symbol: "eta"
  std::string_view latex;          ///< "\\eta"
};

struct optimizer_description {
  optimizer_kind kind;
  std::string_view name;
  std::span<const hyper_parameter_description> hyper;
  std::span<const rule_line_description> rule;
};

namespace detail::rules {
constexpr rule_token n(std::string_view s) {
  return {rule_token::kind::name, s, op::add};
}
constexpr rule_token lit(std::string_view s) {
  return {rule_token::kind::literal, s, op::add};
}
constexpr rule_token o(op x) {
  return {rule_token::kind::operation, {}, x};
}

inline constexpr std::array lr{hyper_parameter_description{"lr", "0.01", "eta", "\\eta"}};

// w <- w - lr*g
inline constexpr std::array sgd_w{n("w"), n("lr"), n("g"), o(op::mul), o(op::sub)};
inline constexpr std::array sgd_rule{rule_line_description{"w", "w", sgd_w, false}};

// v <- beta*v + g ; w <- w - lr*v   (the PyTorch form of classical momentum)
inline constexpr std::array momentum_hyper{
    hyper_parameter_description{"lr", "0.01", "eta", "\\eta"},
    hyper_parameter_description{"beta", "0.9", "beta", "\\beta"}};
inline constexpr std::array momentum_v{n("beta"), n("v"), o(op::mul), n("g"), o(op::add)};
inline constexpr std::array momentum_w{n("w"), n("lr"), n("v"), o(op::mul), o(op::sub)};
inline constexpr std::array momentum_rule{rule_line_description{"v", "v", momentum_v, true},
                                          rule_line_description{"w", "w", momentum_w, false}};

// s <- rho*s + (1 - rho)*g^2 ; w <- w - lr*g/(sqrt(s) + eps)
inline constexpr std::array rmsprop_hyper{
    hyper_parameter_description{"lr", "0.001", "eta", "\\eta"},
    hyper_parameter_description{"rho", "0.9", "rho", "\\rho"},
    hyper_parameter_description{"eps", "1e-8", "eps", "\\epsilon"}};
inline constexpr std::array rmsprop_s{n("rho"),    n("s"),     o(op::mul), lit("1"),
                                      n("rho"),    o(op::sub), n("g"),     lit("2"),
                                      o(op::powi), o(op::mul), o(op::add)};
inline constexpr std::array scaled_w{n("w"),      n("lr"),  n("g"),     o(op::mul), n("s"),
                                     o(op::sqrt), n("eps"), o(op::add), o(op::div), o(op::sub)};
inline constexpr std::array rmsprop_rule{rule_line_description{"s", "s", rmsprop_s, true},
                                         rule_line_description{"w", "w", scaled_w, false}};

// s <- s + g^2 ; w <- w - lr*g/(sqrt(s) + eps)
inline constexpr std::array adagrad_hyper{
    hyper_parameter_description{"lr", "0.01", "eta", "\\eta"},
    hyper_parameter_description{"eps", "1e-8", "eps", "\\epsilon"}};
inline constexpr std::array adagrad_s{n("s"), n("g"), lit("2"), o(op::powi), o(op::add)};
inline constexpr std::array adagrad_rule{rule_line_description{"s", "s", adagrad_s, true},
                                         rule_line_description{"w", "w", scaled_w, false}};

// m <- beta1*m + (1 - beta1)*g ; v <- beta2*v + (1 - beta2)*g^2 ;
// m_hat <- m/(1 - beta1^t) ; v_hat <- v/(1 - beta2^t) ; w <- w - lr*m_hat/(sqrt(v_hat) + eps)
inline constexpr std::array adam_hyper{
    hyper_parameter_description{"lr", "0.001", "eta", "\\eta"},
    hyper_parameter_description{"beta1", "0.9", "beta1", "\\beta_1"},
    hyper_parameter_description{"beta2", "0.999", "beta2", "\\beta_2"},
    hyper_parameter_description{"eps", "1e-8", "eps", "\\epsilon"}};
inline constexpr std::array adam_m{n("beta1"), n("m"), o(op::mul), lit("1"),  n("beta1"),
                                   o(op::sub), n("g"), o(op::mul), o(op::add)};
inline constexpr std::array adam_v{n("beta2"),  n("v"),     o(op::mul), lit("1"),
                                   n("beta2"),  o(op::sub), n("g"),     lit("2"),
                                   o(op::powi), o(op::mul), o(op::add)};
inline constexpr std::array adam_m_hat{n("m"),      lit("1"),   n("beta1"), n("t"),
                                       o(op::powi), o(op::sub), o(op::div)};
inline constexpr std::array adam_v_hat{n("v"),      lit("1"),   n("beta2"), n("t"),
                                       o(op::powi), o(op::sub), o(op::div)};
inline constexpr std::array adam_w{n("w"),      n("lr"),  n("m_hat"), o(op::mul), n("v_hat"),
                                   o(op::sqrt), n("eps"), o(op::add), o(op::div), o(op::sub)};
inline constexpr std::array adam_rule{rule_line_description{"m", "m", adam_m, true},
                                      rule_line_description{"v", "v", adam_v, true},
                                      rule_line_description{"m_hat", "\\hat{m}", adam_m_hat, false},
                                      rule_line_description{"v_hat", "\\hat{v}", adam_v_hat, false},
                                      rule_line_description{"w", "w", adam_w, false}};

// w <- w + lr*(d - y)*x
inline constexpr std::array perceptron_hyper{
    hyper_parameter_description{"lr", "1", "eta", "\\eta"}};
inline constexpr std::array perceptron_w{n("w"),     n("lr"), n("d"),     n("y"),    o(op::sub),
                                         o(op::mul), n("x"),  o(op::mul), o(op::add)};
inline constexpr std::array perceptron_rule{rule_line_description{"w", "w", perceptron_w, false}};

inline constexpr std::array<optimizer_description, 6> table{
    optimizer_description{optimizer_kind::sgd, "sgd", lr, sgd_rule},
    optimizer_description{optimizer_kind::momentum, "momentum", momentum_hyper, momentum_rule},
    optimizer_description{optimizer_kind::rmsprop, "rmsprop", rmsprop_hyper, rmsprop_rule},
    optimizer_description{optimizer_kind::adagrad, "adagrad", adagrad_hyper, adagrad_rule},
    optimizer_description{optimizer_kind::adam, "adam", adam_hyper, adam_rule},
    optimizer_description{optimizer_kind::perceptron, "perceptron", perceptron_hyper,
                          perceptron_rule},
};
}  // namespace detail::rules

/// The description of every optimizer, in optimizer_kind order.
inline std::span<const optimizer_description> optimizer_descriptions() noexcept {
  return detail::rules::table;
}

inline const optimizer_description& describe(optimizer_kind kind) noexcept {
  return detail::rules::table[static_cast<std::size_t>(kind)];
}

inline std::optional<optimizer_kind> find_optimizer_kind(std::string_view name) noexcept {
  for (const auto& d : detail::rules::table) {
    if (d.name == name) return d.kind;
  }
  return std::nullopt;
}

/// An optimizer's numbers for `parameters` parameters at `digits` digits: hyper-parameters, the
/// step counter and, per parameter, the value of every rule line after its last update.
///
/// Usage per training step: begin_step(), then update(k, w, g) for each parameter k (or
/// update_perceptron for the perceptron rule). Nothing allocates after construction.
template <real_number Real>
class optimizer {
 public:
  optimizer(const optimizer_config& config, std::size_t parameters, unsigned digits)
      : description_(&describe(kind_of(config.name))), parameters_(parameters), digits_(digits) {
    typename scalar_traits<Real>::precision_scope scope(digits_);
    const Real zero = scalar_traits<Real>::zero(digits_);
    for (const auto& [name, value] : config.arguments) {
      if (index_of_hyper(name) == npos) {
        std::string known;
        for (const auto& h : description_->hyper)
          known += (known.empty() ? "" : ", ") + std::string(h.name);
        throw usage_error(std::string(description_->name) + " has no hyper-parameter '" + name +
                          "' (it has: " + known + ")");
      }
      if (value.empty()) throw usage_error("hyper-parameter '" + name + "' has no value");
    }
    for (const auto& h : description_->hyper) {
      std::string source(h.default_value);
      for (const auto& [name, value] : config.arguments) {
        if (name == h.name) source = value;
      }
      hyper_.push_back(scalar_traits<Real>::from_decimal(source, digits_));
      sources_.push_back(source);
    }
    const std::size_t lines = description_->rule.size();
    lines_.assign(parameters_ * lines, zero);
    for (auto& r : registers_)
      r = zero;
    one_ = scalar_traits<Real>::from_decimal("1", digits_);
    t_ = zero;
    if (kind() == optimizer_kind::rmsprop) {
      complement_[0] = one_;
      complement_[0] -= hyper("rho");
    }
    if (kind() == optimizer_kind::adam) {
      complement_[0] = one_;
      complement_[0] -= hyper("beta1");
      complement_[1] = one_;
      complement_[1] -= hyper("beta2");
    }
    for (auto& c : correction_)
      c = one_;
    for (auto& p : power_)
      p = one_;
    if constexpr (std::is_same_v<Real, mp_real>) {
      for (auto& p : power_) {
        // Set through MPFR so that the wider precision cannot be lost to an assignment rule.
        mpfr_set_prec(p.backend().data(), mpfr_prec_t(3.33 * (digits_ + power_guard_digits)) + 2);
        mpfr_set_ui(p.backend().data(), 1, MPFR_RNDN);
      }
    }
  }

  optimizer_kind kind() const { return description_->kind; }
  const optimizer_description& description() const { return *description_; }
  std::size_t parameters() const { return parameters_; }
  unsigned digits() const { return digits_; }

  /// Hyper-parameter i in description().hyper order, and the decimal text it was read from.
  const Real& hyper(std::size_t i) const { return hyper_.at(i); }
  const Real& hyper(std::string_view name) const {
    const std::size_t i = index_of_hyper(name);
    if (i == npos)
      throw usage_error(std::string(description_->name) + " has no hyper-parameter '" +
                        std::string(name) + "'");
    return hyper_[i];
  }
  std::string_view hyper_source(std::size_t i) const { return sources_.at(i); }

  /// Number of begin_step() calls so far: t in the rules.
  std::uint64_t steps() const { return steps_; }
  const Real& step_number() const { return t_; }

  /// Value of rule line `line` for parameter k after its last update (0 before the first one).
  const Real& line_value(std::size_t k, std::size_t line) const {
    return lines_.at(k * description_->rule.size() + line);
  }

  /// Starts the next step: t += 1 (and Adam's bias corrections 1 - beta^t, shared by all
  /// parameters).
  void begin_step() {
    typename scalar_traits<Real>::precision_scope scope(digits_);
    ++steps_;
    t_ += one_;
    if (kind() == optimizer_kind::adam) {
      for (std::size_t i = 0; i < 2; ++i) {
        if constexpr (std::is_same_v<Real, mp_real>) {
          // beta^t as a running product kept power_guard_digits above the working precision: one
          // multiplication per step and no allocation (mpfr_pow allocates scratch), and after a
          // billion steps its error is still some 20 digits below the working precision's last.
          mpfr_mul(power_[i].backend().data(), power_[i].backend().data(),
                   hyper_[i + 1].backend().data(), MPFR_RNDN);
          mpfr_ui_sub(correction_[i].backend().data(), 1, power_[i].backend().data(), MPFR_RNDN);
        } else {
          using std::pow;
          power_[i] = pow(hyper_[i + 1], t_);
          correction_[i] = one_;
          correction_[i] -= power_[i];
        }
      }
    }
  }

  /// w <- the rule applied with gradient g = dE/dw, for parameter k.
  void update(std::size_t k, Real& w, const Real& g) {
    if (kind() == optimizer_kind::perceptron) {
      throw usage_error("the perceptron rule needs the error and the input: use update_perceptron");
    }
    check(k);
    typename scalar_traits<Real>::precision_scope scope(digits_);
    Real* line = &lines_[k * description_->rule.size()];
    Real& r0 = registers_[0];
    Real& r1 = registers_[1];
    using std::sqrt;
    switch (kind()) {
      case optimizer_kind::sgd:
        r0 = hyper_[0];
        r0 *= g;
        w -= r0;
        line[0] = w;
        break;
      case optimizer_kind::momentum:
        line[0] *= hyper_[1];
        line[0] += g;
        r0 = hyper_[0];
        r0 *= line[0];
        w -= r0;
        line[1] = w;
        break;
      case optimizer_kind::rmsprop:
      case optimizer_kind::adagrad:
        if (kind() == optimizer_kind::rmsprop) line[0] *= hyper_[1];
        r0 = g;
        r0 *= g;
        if (kind() == optimizer_kind::rmsprop) r0 *= complement_[0];
        line[0] += r0;
        r0 = sqrt(line[0]);
        r0 += hyper_.back();
        r1 = hyper_[0];
        r1 *= g;
        r1 /= r0;
        w -= r1;
        line[1] = w;
        break;
      case optimizer_kind::adam:
        line[0] *= hyper_[1];
        r0 = complement_[0];
        r0 *= g;
        line[0] += r0;
        line[1] *= hyper_[2];
        r0 = g;
        r0 *= g;
        r0 *= complement_[1];
        line[1] += r0;
        line[2] = line[0];
        line[2] /= correction_[0];
        line[3] = line[1];
        line[3] /= correction_[1];
        r0 = sqrt(line[3]);
        r0 += hyper_[3];
        r1 = hyper_[0];
        r1 *= line[2];
        r1 /= r0;
        w -= r1;
        line[4] = w;
        break;
      case optimizer_kind::perceptron:
        break;
    }
  }

  /// The perceptron rule w <- w + lr*(d - y)*x for parameter k, given error = d - y and x.
  void update_perceptron(std::size_t k, Real& w, const Real& error, const Real& x) {
    if (kind() != optimizer_kind::perceptron) {
      throw usage_error(std::string(description_->name) +
                        " is not the perceptron rule: use update");
    }
    check(k);
    typename scalar_traits<Real>::precision_scope scope(digits_);
    Real& r0 = registers_[0];
    r0 = hyper_[0];
    r0 *= error;
    r0 *= x;
    w += r0;
    lines_[k] = w;
  }

  /// Back to the state before the first step.
  void reset() {
    typename scalar_traits<Real>::precision_scope scope(digits_);
    for (auto& x : lines_)
      x = 0;
    for (auto& c : correction_)
      c = 1;
    for (auto& p : power_) {
      if constexpr (std::is_same_v<Real, mp_real>) {
        mpfr_set_ui(p.backend().data(), 1, MPFR_RNDN);
      } else {
        p = 1;
      }
    }
    t_ = 0;
    steps_ = 0;
  }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  static optimizer_kind kind_of(std::string_view name) {
    if (auto k = find_optimizer_kind(name)) return *k;
    throw usage_error("unknown optimizer '" + std::string(name) +
                      "' (known: sgd, momentum, rmsprop, adagrad, adam, perceptron)");
  }
  std::size_t index_of_hyper(std::string_view name) const {
    for (std::size_t i = 0; i < description_->hyper.size(); ++i) {
      if (description_->hyper[i].name == name) return i;
    }
    return npos;
  }
  void check(std::size_t k) const {
    if (k >= parameters_) {
      throw usage_error("parameter " + std::to_string(k) +
                        " is out of range: the optimizer was made for " +
                        std::to_string(parameters_));
    }
  }

  const optimizer_description* description_;
  std::size_t parameters_;
  unsigned digits_;
  std::vector<Real> hyper_;
  std::vector<std::string> sources_;
  std::vector<Real> lines_;  // parameter-major: lines_[k * rule size + line]
  std::array<Real, 2> registers_;
  std::array<Real, 2> complement_;  // 1 - rho, or 1 - beta1 and 1 - beta2
  static constexpr unsigned power_guard_digits = 30;

  std::array<Real, 2> correction_;  // 1 - beta1^t and 1 - beta2^t
  std::array<Real, 2> power_;       // beta1^t and beta2^t
  Real one_;
  Real t_;
  std::uint64_t steps_ = 0;
};

}  // namespace chainrule
