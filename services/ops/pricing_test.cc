#include "services/ops/pricing.h"

#include <gtest/gtest.h>

#include "shop/v1/types.pb.h"

namespace shop::ops {
namespace {

void AddLine(shop::v1::Order& order, int64_t units, int32_t cents, int quantity,
             const char* currency = "USD") {
  auto* line = order.add_lines();
  line->set_quantity(quantity);
  line->mutable_unit_price()->set_currency_code(currency);
  line->mutable_unit_price()->set_units(units);
  line->mutable_unit_price()->set_nanos(cents * 10'000'000);
}

TEST(PricingTest, SmallOrderPaysTaxAndShipping) {
  shop::v1::Order order;
  AddLine(order, 12, 0, 2);  // 24.00
  AddLine(order, 4, 99, 1);  // 4.99
  ASSERT_TRUE(PriceOrder(PricingPolicy{}, order).ok());
  const auto& t = order.totals();
  EXPECT_EQ(order.lines(0).line_total().units(), 24);
  EXPECT_EQ(t.subtotal().units(), 28);
  EXPECT_EQ(t.subtotal().nanos(), 990'000'000);
  EXPECT_EQ(t.tax().units(), 2);  // 8% of 28.99 = 2.3192 → 2.32
  EXPECT_EQ(t.tax().nanos(), 320'000'000);
  EXPECT_EQ(t.shipping().units(), 5);
  EXPECT_EQ(t.shipping().nanos(), 990'000'000);
  EXPECT_EQ(t.grand_total().units(), 37);  // 28.99 + 2.32 + 5.99 = 37.30
  EXPECT_EQ(t.grand_total().nanos(), 300'000'000);
}

TEST(PricingTest, LargeOrderShipsFree) {
  shop::v1::Order order;
  AddLine(order, 89, 0, 1);
  ASSERT_TRUE(PriceOrder(PricingPolicy{}, order).ok());
  EXPECT_EQ(order.totals().shipping().units(), 0);
  EXPECT_EQ(order.totals().grand_total().units(), 96);  // 89 + 7.12
  EXPECT_EQ(order.totals().grand_total().nanos(), 120'000'000);
}

TEST(PricingTest, MixedCurrenciesAreRefused) {
  shop::v1::Order order;
  AddLine(order, 1, 0, 1, "USD");
  AddLine(order, 1, 0, 1, "EUR");
  absl::Status status = PriceOrder(PricingPolicy{}, order);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "catalog prices mix currencies (USD and EUR)");
}

}  // namespace
}  // namespace shop::ops
