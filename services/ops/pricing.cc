#include "services/ops/pricing.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "shop/v1/types.pb.h"

namespace shop::ops {

absl::Status PriceOrder(const PricingPolicy& policy, shop::v1::Order& order) {
  if (order.lines().empty()) return absl::InvalidArgumentError("order has no lines");
  const std::string currency = order.lines(0).unit_price().currency_code();
  Money subtotal = ZeroMoney(currency);
  for (auto& line : *order.mutable_lines()) {
    SHOP_ASSIGN_OR_RETURN(Money unit, MoneyFromProto(line.unit_price()));
    if (unit.currency != currency) {
      return absl::FailedPreconditionError(
          absl::StrCat("catalog prices mix currencies (", currency, " and ", unit.currency, ")"));
    }
    SHOP_ASSIGN_OR_RETURN(Money line_total, MultiplyMoney(unit, line.quantity()));
    MoneyToProto(line_total, line.mutable_line_total());
    SHOP_ASSIGN_OR_RETURN(subtotal, AddMoney(subtotal, line_total));
  }
  SHOP_ASSIGN_OR_RETURN(Money tax, ApplyBasisPoints(subtotal, policy.tax_basis_points));
  Money shipping = ZeroMoney(currency);
  if (policy.flat_shipping.currency == currency &&
      CompareMoney(subtotal, policy.free_shipping_from) < 0) {
    shipping = policy.flat_shipping;
  }
  SHOP_ASSIGN_OR_RETURN(Money total, AddMoney(subtotal, tax));
  SHOP_ASSIGN_OR_RETURN(total, AddMoney(total, shipping));
  auto* totals = order.mutable_totals();
  MoneyToProto(subtotal, totals->mutable_subtotal());
  MoneyToProto(tax, totals->mutable_tax());
  MoneyToProto(shipping, totals->mutable_shipping());
  MoneyToProto(total, totals->mutable_grand_total());
  return absl::OkStatus();
}

}  // namespace shop::ops
