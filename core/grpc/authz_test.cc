#include "core/grpc/authz.h"

#include <gtest/gtest.h>

namespace shop {
namespace {

constexpr char kPolicy[] = R"({
  "name": "ims",
  "deny_rules": [
    {"name": "no_sre_writes", "source": {"principals": ["spiffe://shop.local/ns/shop/sa/sre"]},
     "request": {"paths": ["/shop.v1.InventoryService/Reserve"]}}
  ],
  "allow_rules": [
    {"name": "ops", "source": {"principals": ["spiffe://shop.local/ns/shop/sa/ops"]},
     "request": {"paths": ["/shop.v1.InventoryService/*"]}},
    {"name": "anyone_reads", "source": {"principals": ["*"]},
     "request": {"paths": ["/shop.v1.InventoryService/GetStock"]}}
  ]
})";

TEST(AuthzPolicyTest, AllowsListedCallersOnly) {
  auto policy = AuthzPolicy::Parse(kPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(
      policy->Allows("spiffe://shop.local/ns/shop/sa/ops", "/shop.v1.InventoryService/Reserve"));
  EXPECT_FALSE(
      policy->Allows("spiffe://shop.local/ns/shop/sa/ecp", "/shop.v1.InventoryService/Reserve"));
  EXPECT_TRUE(
      policy->Allows("spiffe://shop.local/ns/shop/sa/ecp", "/shop.v1.InventoryService/GetStock"));
  EXPECT_FALSE(policy->Allows("", "/shop.ops.v1.OrderProcessingService/PlaceOrder"));
}

TEST(AuthzPolicyTest, DenyWins) {
  auto policy = AuthzPolicy::Parse(kPolicy);
  ASSERT_TRUE(policy.ok());
  EXPECT_FALSE(
      policy->Allows("spiffe://shop.local/ns/shop/sa/sre", "/shop.v1.InventoryService/Reserve"));
  EXPECT_TRUE(
      policy->Allows("spiffe://shop.local/ns/shop/sa/sre", "/shop.v1.InventoryService/GetStock"));
}

TEST(AuthzPolicyTest, RejectsMalformedPolicies) {
  EXPECT_EQ(AuthzPolicy::Parse("{").status().message(),
            "authorization policy is not a JSON object");
  EXPECT_EQ(AuthzPolicy::Parse(R"({"name":"x"})").status().message(),
            "authorization policy has no allow_rules");
  EXPECT_EQ(
      AuthzPolicy::Parse(R"({"name":"x","allow_rules":[{"name":"r","request":{"paths":"/a"}}]})")
          .status()
          .message(),
      "r: paths must be a list");
  EXPECT_FALSE(AuthzPolicy::Parse("\xff\xfe\x00").ok());
}

}  // namespace
}  // namespace shop
