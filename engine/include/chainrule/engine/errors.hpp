// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace chainrule {

/// A misuse of the graph API: a handle from another graph, a wrong number of inputs, a duplicate
/// name. Always a programming error in the caller.
class usage_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// A value that cannot be computed: an input outside an op's domain, or NaN/infinity produced.
/// Names the first node where it happened.
class evaluation_error : public std::runtime_error {
 public:
  evaluation_error(const std::string& message, std::uint32_t node, std::string problem = {},
                   std::string operands = {})
      : std::runtime_error(message),
        node_(node),
        problem_(std::move(problem)),
        operands_(std::move(operands)) {}
  /// Index of the node whose evaluation failed.
  std::uint32_t node() const noexcept { return node_; }
  /// What went wrong, without where ("log of a number that is not positive"); may be empty.
  const std::string& problem() const noexcept { return problem_; }
  /// The failing op's operand values as text ("-2", "2, 0"); may be empty.
  const std::string& operands() const noexcept { return operands_; }

 private:
  std::uint32_t node_;
  std::string problem_;
  std::string operands_;
};

}  // namespace chainrule
