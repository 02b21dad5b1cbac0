#include "core/status.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "shop/v1/types.pb.h"

namespace shop {
namespace {

TEST(StatusTest, FieldViolationsBecomeBadRequest) {
  FieldViolations violations;
  EXPECT_TRUE(violations.ToStatus().ok());
  violations.Add("lines", "must not be empty");
  violations.Add("shipping_address.city", "is required");
  absl::Status status = violations.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "invalid request; lines: must not be empty; shipping_address.city: is required");
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(status, bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 2);
  EXPECT_EQ(bad_request.field_violations(1).field(), "shipping_address.city");
}

TEST(StatusTest, ErrorInfoReason) {
  absl::Status status = ErrorWithReason(absl::StatusCode::kFailedPrecondition, "declined",
                                        shop::v1::CARD_DECLINED, {{"order_id", "ord_1"}});
  EXPECT_EQ(ErrorReason(status), "CARD_DECLINED");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(GetDetail(status, info));
  EXPECT_EQ(info.domain(), "shop.local");
  EXPECT_EQ(info.metadata().at("order_id"), "ord_1");
  EXPECT_EQ(ErrorReason(absl::InternalError("x")), "");
}

TEST(StatusTest, ReasonOfDecidesOnlyOnOurOwnKnownReasons) {
  EXPECT_EQ(ReasonOf(ErrorWithReason(absl::StatusCode::kFailedPrecondition, "sold",
                                     shop::v1::RESERVATION_COMMITTED)),
            shop::v1::RESERVATION_COMMITTED);
  EXPECT_EQ(ReasonOf(absl::InternalError("no detail")), shop::v1::ERROR_REASON_UNSPECIFIED);
  // A reason this build does not know (a newer peer), or another domain's.
  for (const auto& [domain, reason] : std::vector<std::pair<std::string, std::string>>{
           {"shop.local", "SOMETHING_NEW"}, {"googleapis.com", "OUT_OF_STOCK"}}) {
    absl::Status status = absl::FailedPreconditionError("x");
    google::rpc::ErrorInfo info;
    info.set_domain(domain);
    info.set_reason(reason);
    AddDetail(status, info);
    EXPECT_EQ(ReasonOf(status), shop::v1::ERROR_REASON_UNSPECIFIED) << domain << " " << reason;
    EXPECT_EQ(ErrorReason(status), reason);  // kept as it travelled, for display
  }
  EXPECT_EQ(ReasonName(shop::v1::OUT_OF_STOCK), "OUT_OF_STOCK");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  auto fails = []() -> absl::StatusOr<int> { return absl::NotFoundError("nope"); };
  auto caller = [&]() -> absl::Status {
    SHOP_ASSIGN_OR_RETURN(int value, fails());
    return value == 0 ? absl::OkStatus() : absl::InternalError("unreachable");
  };
  EXPECT_EQ(caller().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace shop
