#include "core/grpc/authz.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace shop {
namespace {

constexpr char kOps[] = "spiffe://shop.local/ns/shop/sa/ops";
constexpr char kGateway[] = "spiffe://shop.local/ns/shop/sa/gateway";
constexpr char kReserve[] = "/shop.v1.InventoryService/Reserve";
constexpr char kRestock[] = "/shop.v1.InventoryService/Restock";
constexpr char kGetStock[] = "/shop.v1.InventoryService/GetStock";

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

// Security review #9, verbatim: "principal" (singular) used to leave the rule
// without principals, which matched every caller.
constexpr char kReviewTypo[] =
    R"({"name":"ims","allow_rules":[{"name":"ops","source":{"principal":["spiffe://shop.local/ns/shop/sa/ops"]},"request":{"paths":["/shop.v1.InventoryService/*"]}}]})";

// A one-rule policy: `members` are the rule's members after its name.
std::string OneRule(absl::string_view members) {
  return absl::StrCat(R"({"name":"ims","allow_rules":[{"name":"r",)", members, "}]}");
}

constexpr char kOpsSource[] = R"("source":{"principals":["spiffe://shop.local/ns/shop/sa/ops"]})";
constexpr char kInventoryRequest[] = R"("request":{"paths":["/shop.v1.InventoryService/*"]})";

// The parser's error, or "accepted".
std::string ErrorOf(absl::string_view json) {
  auto policy = AuthzPolicy::Parse(json);
  return policy.ok() ? "accepted" : std::string(policy.status().message());
}

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
  EXPECT_EQ(ErrorOf(R"({"name":"x","allow_rules":[]})"), "authorization policy has no allow_rules");
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(kOpsSource, R"(,"request":{"paths":"/a"})"))),
            "allow_rules[0].request.paths: must be a list of strings");
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(kOpsSource, R"(,"request":{"paths":["/a",7]})"))),
            "allow_rules[0].request.paths[1]: must be a string");
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(kOpsSource, R"(,"request":[])"))),
            "allow_rules[0].request: must be an object");
  EXPECT_EQ(ErrorOf(R"({"name":"x","allow_rules":{}})"),
            "authorization policy: \"allow_rules\" must be an array");
  EXPECT_EQ(ErrorOf(R"({"name":"x","allow_rules":["r"]})"), "allow_rules[0]: must be an object");
  EXPECT_EQ(ErrorOf(R"({"name":1,"allow_rules":[]})"),
            "authorization policy: \"name\" must be a non-empty string");
  EXPECT_FALSE(AuthzPolicy::Parse("\xff\xfe\x00").ok());
}

TEST(AuthzPolicyTest, RefusesTheReviewsSingularPrincipal) {
  auto policy = AuthzPolicy::Parse(kReviewTypo);
  ASSERT_FALSE(policy.ok()) << "accepted; gateway may Restock: "
                            << policy->Allows(kGateway, kRestock);
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.status().message(), "allow_rules[0].source: unknown key \"principal\"");
}

TEST(AuthzPolicyTest, RefusesAnUnknownTopLevelKey) {
  // A misspelt "deny_rules" used to drop the deny rule without a word.
  EXPECT_EQ(ErrorOf(R"({"name":"ims",
      "deny_rule":[{"name":"d","source":{"principals":["*"]},"request":{"paths":["*"]}}],
      "allow_rules":[{"name":"r","source":{"principals":["*"]},"request":{"paths":["/a/b"]}}]})"),
            "authorization policy: unknown key \"deny_rule\"");
}

TEST(AuthzPolicyTest, RefusesAnUnknownKeyInRequest) {
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(
                kOpsSource, R"(,"request":{"path":["/shop.v1.InventoryService/GetStock"]})"))),
            "allow_rules[0].request: unknown key \"path\"");
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(
                kOpsSource, R"(,"request":{"paths":["/a/b"],"methods":["GetStock"]})"))),
            "allow_rules[0].request: unknown key \"methods\"");
}

TEST(AuthzPolicyTest, RefusesUnknownKeysAtEveryOtherLevel) {
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(kOpsSource, ",", kInventoryRequest, R"(,"sources":{})"))),
            "allow_rules[0]: unknown key \"sources\"");
  EXPECT_EQ(ErrorOf(absl::StrCat(
                R"({"name":"ims","deny_rules":[{"name":"d","source":{"principals":["*"],)",
                R"("namespaces":["shop"]},"request":{"paths":["*"]}}],"allow_rules":[{"name":"r",)",
                kOpsSource, ",", kInventoryRequest, "}]}")),
            "deny_rules[0].source: unknown key \"namespaces\"");
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"name":"ims","allow_rules":[{"name":"a",)", kOpsSource, ",",
                                 kInventoryRequest, R"(},{"name":"b",)", kOpsSource, ",",
                                 kInventoryRequest, R"(,"action":"ALLOW"}]})")),
            "allow_rules[1]: unknown key \"action\"");
}

TEST(AuthzPolicyTest, RefusesGrpcKeysThisEngineDoesNotImplement) {
  EXPECT_EQ(
      ErrorOf(OneRule(absl::StrCat(
          kOpsSource,
          R"(,"request":{"paths":["/a/b"],"headers":[{"key":"x-role","values":["admin"]}]})"))),
      "allow_rules[0].request: \"headers\" is not supported");
  EXPECT_EQ(ErrorOf(R"({"name":"ims","audit_logging_options":{"audit_condition":"ON_DENY"},
      "allow_rules":[{"name":"r","source":{"principals":["*"]},"request":{"paths":["/a/b"]}}]})"),
            "authorization policy: \"audit_logging_options\" is not supported");
}

TEST(AuthzPolicyTest, RefusesARuleWithoutPrincipals) {
  EXPECT_EQ(ErrorOf(OneRule(kInventoryRequest)),
            "allow_rules[0]: \"source\" is required (spell out [\"*\"] to match any caller)");
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(R"("source":{},)", kInventoryRequest))),
            "allow_rules[0].source: \"principals\" is required (spell out [\"*\"] to match any "
            "caller)");
  // gRPC's own example (gRFC A43) has a deny rule without a source.
  EXPECT_EQ(ErrorOf(absl::StrCat(
                R"({"name":"ims","deny_rules":[{"name":"d","request":{"paths":["*/Restock"]}}],)",
                R"("allow_rules":[{"name":"r",)", kOpsSource, ",", kInventoryRequest, "}]}")),
            "deny_rules[0]: \"source\" is required (spell out [\"*\"] to match any caller)");
}

TEST(AuthzPolicyTest, RefusesARuleWithoutPaths) {
  EXPECT_EQ(ErrorOf(OneRule(kOpsSource)),
            "allow_rules[0]: \"request\" is required (spell out [\"*\"] to match any path)");
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(kOpsSource, R"(,"request":{})"))),
            "allow_rules[0].request: \"paths\" is required (spell out [\"*\"] to match any path)");
}

TEST(AuthzPolicyTest, RefusesEmptyLists) {
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(R"("source":{"principals":[]},)", kInventoryRequest))),
            "allow_rules[0].source.principals: must not be empty (spell out [\"*\"] to match any "
            "caller)");
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(kOpsSource, R"(,"request":{"paths":[]})"))),
            "allow_rules[0].request.paths: must not be empty (spell out [\"*\"] to match any "
            "path)");
}

TEST(AuthzPolicyTest, RefusesEmptyStrings) {
  EXPECT_EQ(
      ErrorOf(OneRule(absl::StrCat(R"("source":{"principals":["*",""]},)", kInventoryRequest))),
      "allow_rules[0].source.principals[1]: must not be empty");
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(kOpsSource, R"(,"request":{"paths":[""]})"))),
            "allow_rules[0].request.paths[0]: must not be empty");
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"name":"ims","allow_rules":[{"name":"",)", kOpsSource, ",",
                                 kInventoryRequest, "}]}")),
            "allow_rules[0]: \"name\" must be a non-empty string");
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"name":"","allow_rules":[{"name":"r",)", kOpsSource, ",",
                                 kInventoryRequest, "}]}")),
            "authorization policy: \"name\" must be a non-empty string");
}

TEST(AuthzPolicyTest, RefusesDuplicateRuleNames) {
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"name":"ims","allow_rules":[{"name":"ops",)", kOpsSource, ",",
                                 kInventoryRequest, R"(},{"name":"reads",)", kOpsSource, ",",
                                 kInventoryRequest, R"(},{"name":"ops",)", kOpsSource, ",",
                                 kInventoryRequest, "}]}")),
            "allow_rules[2]: duplicate rule name \"ops\" (also allow_rules[0])");
  // As in gRPC, names are unique within each list; a deny and an allow rule may share one.
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"name":"ims","deny_rules":[{"name":"ops",)", kOpsSource,
                                 R"(,"request":{"paths":["/x/y"]}}],"allow_rules":[{"name":"ops",)",
                                 kOpsSource, ",", kInventoryRequest, "}]}")),
            "accepted");
}

TEST(AuthzPolicyTest, RefusesDuplicateJsonKeys) {
  // nlohmann keeps the last member, which here would turn "ops only" into "anyone".
  EXPECT_EQ(ErrorOf(absl::StrCat(
                R"({"name":"ims","allow_rules":[{"name":"a",)", kOpsSource, ",", kInventoryRequest,
                R"(},{"name":"b","source":{"principals":["spiffe://shop.local/ns/shop/sa/ops"],)",
                R"("principals":["*"]},)", kInventoryRequest, "}]}")),
            "allow_rules[1].source: duplicate key \"principals\"");
  EXPECT_EQ(ErrorOf(absl::StrCat(R"({"name":"ims","name":"ecp","allow_rules":[{"name":"r",)",
                                 kOpsSource, ",", kInventoryRequest, "}]}")),
            "authorization policy: duplicate key \"name\"");
}

TEST(AuthzPolicyTest, RefusesPatternsThatCouldNeverMatch) {
  EXPECT_EQ(
      ErrorOf(OneRule(absl::StrCat(kOpsSource, R"(,"request":{"paths":["/shop.v1.*/GetStock"]})"))),
      "allow_rules[0].request.paths[0]: \"/shop.v1.*/GetStock\": \"*\" may only be the "
      "whole pattern or its first or last character");
  EXPECT_EQ(ErrorOf(OneRule(absl::StrCat(
                kOpsSource, R"(,"request":{"paths":["shop.v1.InventoryService/Restock"]})"))),
            "allow_rules[0].request.paths[0]: \"shop.v1.InventoryService/Restock\" must start "
            "with \"/\" or \"*\"");
  EXPECT_EQ(ErrorOf(OneRule(
                absl::StrCat(R"("source":{"principals":["ops.shop.local"]},)", kInventoryRequest))),
            "allow_rules[0].source.principals[0]: \"ops.shop.local\" must start with "
            "\"spiffe://\" or \"*\"");
}

TEST(AuthzPolicyTest, MatchesSuffixPatternsAsGrpcDoes) {
  // gRPC reads "*/Restock" as a suffix; matched literally, this deny rule never denied.
  auto policy = AuthzPolicy::Parse(absl::StrCat(
      R"({"name":"ims","deny_rules":[{"name":"no_restock","source":{"principals":["*"]},)",
      R"("request":{"paths":["*/Restock"]}}],"allow_rules":[{"name":"ops",)", kOpsSource, ",",
      kInventoryRequest, "}]}"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_FALSE(policy->Allows(kOps, kRestock));
  EXPECT_TRUE(policy->Allows(kOps, kReserve));
}

TEST(AuthzPolicyTest, WildcardNeedsACallerIdentity) {
  // gRPC: "*" matches when the value is not empty.
  auto policy = AuthzPolicy::Parse(kPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->Allows(kGateway, kGetStock));
  EXPECT_FALSE(policy->Allows("", kGetStock));
}

// --- AuthzPolicyHolder::FromFile ----------------------------------------------

bool WaitUntil(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));  // polling a condition, with a deadline
  }
  return done();
}

// Another good policy: gateway may Restock, and nobody but ops reads GetStock.
constexpr char kGatewayRestocks[] = R"({"name":"ims","allow_rules":[
  {"name":"ops","source":{"principals":["spiffe://shop.local/ns/shop/sa/ops"]},
   "request":{"paths":["/shop.v1.InventoryService/*"]}},
  {"name":"gateway","source":{"principals":["spiffe://shop.local/ns/shop/sa/gateway"]},
   "request":{"paths":["/shop.v1.InventoryService/Restock"]}}]})";

class AuthzPolicyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(::testing::TempDir(), "/authz_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
                         getpid(), ".json");
  }
  void TearDown() override { std::remove(path_.c_str()); }

  // Written aside and renamed into place, so the watcher never sees half a file.
  void Write(absl::string_view text) {
    std::string temp = path_ + ".tmp";
    std::ofstream(temp, std::ios::binary | std::ios::trunc) << text;
    ASSERT_EQ(std::rename(temp.c_str(), path_.c_str()), 0);
  }

  std::string path_;
};

TEST_F(AuthzPolicyFileTest, StartRefusesABadFile) {
  Write(kReviewTypo);
  auto holder = AuthzPolicyHolder::FromFile(path_);
  ASSERT_FALSE(holder.ok()) << "accepted; gateway may Restock: "
                            << (*holder)->Allows(kGateway, kRestock);
  EXPECT_EQ(holder.status().message(),
            absl::StrCat(path_, ": allow_rules[0].source: unknown key \"principal\""));
}

TEST_F(AuthzPolicyFileTest, ReloadKeepsThePreviousPolicyOnABadFile) {
  Write(kPolicy);
  auto holder = AuthzPolicyHolder::FromFile(path_, absl::Hours(1));  // the watcher stays idle
  ASSERT_TRUE(holder.ok()) << holder.status();
  AuthzPolicyHolder& policy = **holder;
  EXPECT_TRUE(policy.Allows(kOps, kReserve));
  EXPECT_FALSE(policy.Allows(kGateway, kRestock));

  Write(kReviewTypo);
  absl::Status reload = policy.Reload();
  EXPECT_EQ(reload.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reload.message(),
            absl::StrCat(path_, ": allow_rules[0].source: unknown key \"principal\""));
  EXPECT_EQ(policy.last_reload_status(), reload);
  EXPECT_FALSE(policy.Allows(kGateway, kRestock));
  EXPECT_TRUE(policy.Allows(kOps, kReserve));
  EXPECT_TRUE(policy.Allows(kGateway, kGetStock));
  EXPECT_EQ(policy.Reload(), reload);  // the same bad text, the same verdict

  Write(kGatewayRestocks);
  ASSERT_TRUE(policy.Reload().ok());
  EXPECT_TRUE(policy.last_reload_status().ok());
  EXPECT_TRUE(policy.Allows(kGateway, kRestock));
  EXPECT_FALSE(policy.Allows(kGateway, kGetStock));

  std::remove(path_.c_str());
  EXPECT_EQ(policy.Reload().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(policy.Allows(kGateway, kRestock));
}

TEST_F(AuthzPolicyFileTest, WatcherKeepsThePreviousPolicyOnABadFile) {
  Write(kPolicy);
  auto holder = AuthzPolicyHolder::FromFile(path_, absl::Milliseconds(10));
  ASSERT_TRUE(holder.ok()) << holder.status();
  AuthzPolicyHolder& policy = **holder;

  Write(kReviewTypo);
  ASSERT_TRUE(WaitUntil([&] { return !policy.last_reload_status().ok(); }))
      << "the watcher never read the bad file";
  EXPECT_EQ(policy.last_reload_status().message(),
            absl::StrCat(path_, ": allow_rules[0].source: unknown key \"principal\""));
  EXPECT_FALSE(policy.Allows(kGateway, kRestock));
  EXPECT_TRUE(policy.Allows(kOps, kReserve));

  Write(kGatewayRestocks);  // and a good file after a bad one is still picked up
  ASSERT_TRUE(WaitUntil([&] { return policy.Allows(kGateway, kRestock); }));
  EXPECT_TRUE(policy.last_reload_status().ok());
  EXPECT_FALSE(policy.Allows(kGateway, kGetStock));
}

}  // namespace
}  // namespace shop
