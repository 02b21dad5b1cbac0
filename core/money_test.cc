#include "core/money.h"

#include <gtest/gtest.h>

#include "shop/v1/types.pb.h"

namespace shop {
namespace {

Money Usd(int64_t units, int32_t nanos = 0) { return Money{"USD", units, nanos}; }

TEST(MoneyTest, AddCarriesNanosIntoUnits) {
  auto sum = AddMoney(Usd(1, 600'000'000), Usd(2, 500'000'000));
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(*sum, Usd(4, 100'000'000));
}

TEST(MoneyTest, AddRefusesMixedCurrencies) {
  auto sum = AddMoney(Usd(1), Money{"EUR", 1, 0});
  EXPECT_EQ(sum.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sum.status().message(), "cannot add USD and EUR");
}

TEST(MoneyTest, MultiplyIsExact) {
  auto total = MultiplyMoney(Usd(59, 990'000'000), 3);
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(*total, Usd(179, 970'000'000));
}

TEST(MoneyTest, MultiplyDetectsOverflow) {
  auto total = MultiplyMoney(Usd(INT64_MAX / 2), 3);
  EXPECT_EQ(total.status().code(), absl::StatusCode::kOutOfRange);
}

TEST(MoneyTest, BasisPointsRoundHalfUpToCents) {
  // 8% of 10.05 = 0.804 -> 0.80; 8% of 10.0625 = 0.805 -> 0.81.
  EXPECT_EQ(*ApplyBasisPoints(Usd(10, 50'000'000), 800), Usd(0, 800'000'000));
  EXPECT_EQ(*ApplyBasisPoints(Usd(10, 62'500'000), 800), Usd(0, 810'000'000));
  EXPECT_EQ(*ApplyBasisPoints(Money{"JPY", 1005, 0}, 1000), (Money{"JPY", 101, 0}));
}

TEST(MoneyTest, MinorUnitsRoundTrip) {
  EXPECT_EQ(*ToMinorUnits(Usd(12, 340'000'000)), 1234);
  EXPECT_EQ(*FromMinorUnits("USD", 1234), Usd(12, 340'000'000));
  EXPECT_EQ(*ToMinorUnits(Money{"JPY", 500, 0}), 500);
}

TEST(MoneyTest, MinorUnitsRefuseSubCentAmounts) {
  auto minor = ToMinorUnits(Usd(1, 5'000'000));
  EXPECT_EQ(minor.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MoneyTest, FromProtoValidates) {
  shop::v1::Money proto;
  proto.set_currency_code("XXX");
  EXPECT_EQ(MoneyFromProto(proto).status().message(), "unsupported currency code \"XXX\"");
  proto.set_currency_code("USD");
  proto.set_units(1);
  proto.set_nanos(-5);
  EXPECT_EQ(MoneyFromProto(proto).status().message(), "units and nanos must have the same sign");
  proto.set_nanos(1'000'000'000);
  EXPECT_EQ(MoneyFromProto(proto).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MoneyTest, Formats) {
  EXPECT_EQ(FormatMoney(Usd(12, 340'000'000)), "USD 12.34");
  EXPECT_EQ(FormatMoney(Usd(0, -500'000'000)), "USD -0.50");
  EXPECT_EQ(FormatMoney(Money{"JPY", 500, 0}), "JPY 500");
}

}  // namespace
}  // namespace shop
