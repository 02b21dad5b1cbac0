// Order totals: subtotal from catalog prices, tax, shipping, grand total.
#ifndef SHOP_SERVICES_OPS_PRICING_H_
#define SHOP_SERVICES_OPS_PRICING_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/money.h"

namespace shop::v1 {
class Order;
}

namespace shop::ops {

struct PricingPolicy {
  int64_t tax_basis_points = 800;              // 8.00 %
  Money flat_shipping{"USD", 5, 990'000'000};  // 5.99
  Money free_shipping_from{"USD", 50, 0};      // orders of 50.00 or more ship free
};

// Fills order.lines[].line_total and order.totals from the lines' unit
// prices. Every line must be in the same currency.
absl::Status PriceOrder(const PricingPolicy& policy, shop::v1::Order& order);

}  // namespace shop::ops

#endif  // SHOP_SERVICES_OPS_PRICING_H_
