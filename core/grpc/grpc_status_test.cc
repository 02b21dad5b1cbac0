#include "core/grpc/grpc_status.h"

#include <gtest/gtest.h>

#include "core/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "shop/v1/types.pb.h"

namespace shop {
namespace {

TEST(GrpcStatusTest, GrpcRoundTripKeepsCodeMessageAndDetails) {
  absl::Status status = ErrorWithReason(absl::StatusCode::kFailedPrecondition, "out of stock",
                                        shop::v1::OUT_OF_STOCK);
  shop::v1::StockShortage shortage;
  auto* item = shortage.add_items();
  item->set_sku("SKU-1");
  item->set_requested_quantity(5);
  item->set_available_quantity(2);
  AddDetail(status, shortage);

  grpc::Status wire = ToGrpcStatus(status);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  google::rpc::Status rpc_status;
  ASSERT_TRUE(rpc_status.ParseFromString(wire.error_details()));
  EXPECT_EQ(rpc_status.details_size(), 2);

  absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(back.message(), "out of stock");
  EXPECT_EQ(ErrorReason(back), "OUT_OF_STOCK");
  shop::v1::StockShortage decoded;
  ASSERT_TRUE(GetDetail(back, decoded));
  EXPECT_EQ(decoded.items(0).available_quantity(), 2);
}

TEST(GrpcStatusTest, GarbageDetailsAreIgnored) {
  absl::Status back = FromGrpcStatus(grpc::Status(grpc::StatusCode::INTERNAL, "x", "\xff\x01"));
  EXPECT_EQ(back.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(ErrorReason(back), "");
}

}  // namespace
}  // namespace shop
