// SPDX-License-Identifier: MIT
#include "chainrule/lang/dropout.hpp"

#include <optional>
#include <string>

#include "random.hpp"

namespace chainrule::lang {

template <class Real>
struct dropout_control<Real>::impl {
  struct one_dropout {
    chainrule::node_id rate{};
    std::vector<chainrule::node_id> mask;
    std::vector<int> written;  // explicit mask: 1 or 0 per element
    std::optional<detail::dropout_mask_stream> drawn;
    Real rate_value;
  };
  chainrule::graph<Real>* graph = nullptr;
  std::vector<one_dropout> dropouts;
  Real zero;
  Real one;
};

template <class Real>
dropout_control<Real>::dropout_control(const checked_model& model, lowered_model<Real>& lowered)
    : impl_(std::make_unique<impl>()) {
  impl& m = *impl_;
  m.graph = lowered.graph.get();
  const unsigned digits = m.graph->digits();
  typename scalar_traits<Real>::precision_scope scope(digits);
  m.zero = scalar_traits<Real>::from_decimal("0", digits);
  m.one = scalar_traits<Real>::from_decimal("1", digits);
  for (const dropout_setting& d : model.dropouts) {
    typename impl::one_dropout out;
    out.rate = lowered.node(d.rate_constant);
    out.rate_value = scalar_traits<Real>::from_decimal(d.rate, digits);
    for (std::size_t i = 0; i < d.mask.size(); ++i) {
      out.mask.push_back(lowered.node(d.mask[i]));
      out.written.push_back(
          scalar_traits<Real>::is_zero(scalar_traits<Real>::from_decimal(d.mask_values[i], digits))
              ? 0
              : 1);
    }
    if (d.seed) out.drawn.emplace(*d.seed, d.mask.size(), d.rate);
    m.dropouts.push_back(std::move(out));
  }
}

template <class Real>
dropout_control<Real>::~dropout_control() = default;

template <class Real>
bool dropout_control<Real>::empty() const noexcept {
  return impl_->dropouts.empty();
}

template <class Real>
void dropout_control<Real>::training(std::uint64_t step) {
  training(step, 0, 1);
}

template <class Real>
void dropout_control<Real>::training(std::uint64_t step, std::uint64_t row, std::uint64_t rows) {
  impl& m = *impl_;
  const std::uint64_t draw = (step - 1) * rows + row + 1;
  for (auto& d : m.dropouts) {
    const std::vector<int>& keep = d.drawn ? d.drawn->mask(draw) : d.written;
    for (std::size_t i = 0; i < d.mask.size(); ++i)
      m.graph->set_value(d.mask[i], keep[i] != 0 ? m.one : m.zero);
    m.graph->set_value(d.rate, d.rate_value);
  }
}

template <class Real>
void dropout_control<Real>::evaluation() {
  impl& m = *impl_;
  for (auto& d : m.dropouts) {
    for (const auto node : d.mask)
      m.graph->set_value(node, m.one);
    m.graph->set_value(d.rate, m.zero);
  }
}

template class dropout_control<double>;
template class dropout_control<chainrule::mp_real>;

}  // namespace chainrule::lang
