#include "services/ecp/end_user.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/status.h"
#include "core/test_keys.h"

namespace shop::ecp {
namespace {

constexpr char kShopctl[] = "spiffe://shop.local/ns/shop/sa/shopctl";
constexpr char kGateway[] = "spiffe://shop.local/ns/shop/sa/bridge";

class EndUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = JwtSigningKey::FromPem(shop::testing::NewP256KeyPem(), "k1");
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = std::make_unique<JwtSigningKey>(std::move(*key));
    auto jwks = JwksForPublicKey(*key_);
    ASSERT_TRUE(jwks.ok());
    path_ = ::testing::TempDir() + "/end_user_test_jwks.json";
    std::ofstream(path_) << *jwks;
    auto file = JwksFile::Open(path_);
    ASSERT_TRUE(file.ok()) << file.status();
    auth_ = std::make_unique<EndUserAuthenticator>(std::move(*file),
                                                   JwtPolicy{"https://id.test", "shopmesh"},
                                                   std::set<std::string>{kShopctl});
  }
  void TearDown() override { std::remove(path_.c_str()); }

  std::string Token(const std::string& subject, std::vector<std::string> roles = {},
                    absl::Duration valid_for = absl::Minutes(5)) {
    JwtMintRequest request;
    request.issuer = "https://id.test";
    request.audience = "shopmesh";
    request.subject = subject;
    request.roles = std::move(roles);
    request.issued_at = absl::Now();
    request.expires_at = absl::Now() + valid_for;
    auto token = MintJwt(*key_, request);
    EXPECT_TRUE(token.ok()) << token.status();
    return *token;
  }

  std::unique_ptr<JwtSigningKey> key_;
  std::string path_;
  std::unique_ptr<EndUserAuthenticator> auth_;
};

TEST_F(EndUserTest, BearerTokenNamesTheCustomerAndTheStaffRole) {
  std::string bearer = "Bearer " + Token("alice");
  auto user = auth_->Authenticate({bearer, "", kGateway}, absl::Now());
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->customer_id, "alice");
  EXPECT_FALSE(user->staff);
  std::string staff = "bearer " + Token("sam", {"staff"});
  auto staff_user = auth_->Authenticate({staff, "", kGateway}, absl::Now());
  ASSERT_TRUE(staff_user.ok());
  EXPECT_TRUE(staff_user->staff);
}

TEST_F(EndUserTest, TokenWinsOverTheHeader) {
  std::string bearer = "Bearer " + Token("alice");
  auto user = auth_->Authenticate({bearer, "mallory", kShopctl}, absl::Now());
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->customer_id, "alice");
}

TEST_F(EndUserTest, ExpiredOrMalformedTokensAreUnauthenticatedWithTheReason) {
  std::string expired = "Bearer " + Token("alice", {}, absl::Seconds(1));
  auto late = auth_->Authenticate({expired, "", kGateway}, absl::Now() + absl::Hours(1));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ErrorReason(late.status()), "TOKEN_EXPIRED");
  auto basic = auth_->Authenticate({"Basic YWxpY2U6cHc=", "", kGateway}, absl::Now());
  EXPECT_EQ(basic.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ErrorReason(basic.status()), "MALFORMED_TOKEN");
}

TEST_F(EndUserTest, HeaderCountsOnlyFromTrustedTools) {
  auto tool = auth_->Authenticate({"", "bob", kShopctl}, absl::Now());
  ASSERT_TRUE(tool.ok());
  EXPECT_EQ(tool->customer_id, "bob");
  auto bridge = auth_->Authenticate({"", "bob", kGateway}, absl::Now());
  EXPECT_EQ(bridge.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ErrorReason(bridge.status()), "NOT_SIGNED_IN");
  auto nobody = auth_->Authenticate({"", "", kShopctl}, absl::Now());
  EXPECT_EQ(nobody.status().code(), absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace shop::ecp
