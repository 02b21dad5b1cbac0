#include "core/status.h"

#include <gtest/gtest.h>

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
                                        "CARD_DECLINED", {{"order_id", "ord_1"}});
  EXPECT_EQ(ErrorReason(status), "CARD_DECLINED");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(GetDetail(status, info));
  EXPECT_EQ(info.domain(), "shop.local");
  EXPECT_EQ(info.metadata().at("order_id"), "ord_1");
  EXPECT_EQ(ErrorReason(absl::InternalError("x")), "");
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
