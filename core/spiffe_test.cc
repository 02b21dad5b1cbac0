#include "core/spiffe.h"

#include <gtest/gtest.h>

namespace shop {
namespace {

TEST(SpiffeTest, ServiceAccountRoundTrips) {
  EXPECT_EQ(SpiffeIdFor("pg-adapter"), "spiffe://shop.local/ns/shop/sa/pg-adapter");
  EXPECT_EQ(ServiceAccountOf(SpiffeIdFor("pg-adapter")), "pg-adapter");
}

TEST(SpiffeTest, AnythingButAWorkloadIdOfThisTrustDomainHasNoServiceAccount) {
  const std::string with_nul("spiffe://shop.local/ns/shop/sa/o\0ps", 35);
  for (const std::string& id : {std::string(), std::string("spiffe://shop.local/ns/shop/sa/"),
                                std::string("spiffe://evil.local/ns/shop/sa/ops"),
                                std::string("spiffe://shop.local/ns/other/sa/ops"),
                                std::string("spiffe://shop.local/ns/shop/sa/ops/x"),
                                std::string("spiffe://shop.local/ns/shop/sa/OPS"),
                                std::string("https://shop.local/ns/shop/sa/ops"), with_nul}) {
    EXPECT_EQ(ServiceAccountOf(id), std::nullopt) << id;
  }
}

}  // namespace
}  // namespace shop
