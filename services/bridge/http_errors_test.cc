#include "services/bridge/http_errors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "google/rpc/error_details.pb.h"
#include "shop/v1/types.pb.h"

namespace shop::bridge {
namespace {

TEST(HttpErrorsTest, StatusTableIsGrpcGatewayV2) {
  const std::vector<std::pair<absl::StatusCode, int>> table = {
      {absl::StatusCode::kOk, 200},
      {absl::StatusCode::kCancelled, 499},
      {absl::StatusCode::kUnknown, 500},
      {absl::StatusCode::kInvalidArgument, 400},
      {absl::StatusCode::kDeadlineExceeded, 504},
      {absl::StatusCode::kNotFound, 404},
      {absl::StatusCode::kAlreadyExists, 409},
      {absl::StatusCode::kPermissionDenied, 403},
      {absl::StatusCode::kResourceExhausted, 429},
      {absl::StatusCode::kFailedPrecondition, 400},
      {absl::StatusCode::kAborted, 409},
      {absl::StatusCode::kOutOfRange, 400},
      {absl::StatusCode::kUnimplemented, 501},
      {absl::StatusCode::kInternal, 500},
      {absl::StatusCode::kUnavailable, 503},
      {absl::StatusCode::kDataLoss, 500},
      {absl::StatusCode::kUnauthenticated, 401},
  };
  for (const auto& [code, http] : table) {
    EXPECT_EQ(HttpStatusFromCode(static_cast<int>(code)), http) << absl::StatusCodeToString(code);
  }
  EXPECT_EQ(HttpStatusFromCode(99), 500);
  EXPECT_EQ(HttpStatusFromCode(-1), 500);
}

TEST(HttpErrorsTest, RendersTypedDetailsWithTheAnyJsonMapping) {
  google::rpc::Status status;
  status.set_code(9);
  status.set_message("not enough stock");
  google::rpc::ErrorInfo info;
  info.set_reason("OUT_OF_STOCK");
  info.set_domain("shop.local");
  (*info.mutable_metadata())["order_id"] = "ord_1";
  status.add_details()->PackFrom(info);
  google::rpc::BadRequest bad_request;
  auto* violation = bad_request.add_field_violations();
  violation->set_field("lines[0].quantity");
  violation->set_description("must be positive");
  status.add_details()->PackFrom(bad_request);

  const std::string bin = status.SerializeAsString();
  google::rpc::Status decoded = RpcStatusFromGrpc(9, "not enough stock", bin);
  nlohmann::json body = nlohmann::json::parse(ErrorJson(decoded));
  EXPECT_EQ(body["code"], 9);
  EXPECT_EQ(body["message"], "not enough stock");
  ASSERT_EQ(body["details"].size(), 2u);
  EXPECT_EQ(body["details"][0]["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
  EXPECT_EQ(body["details"][0]["reason"], "OUT_OF_STOCK");
  EXPECT_EQ(body["details"][0]["metadata"]["order_id"], "ord_1");
  EXPECT_EQ(body["details"][1]["@type"], "type.googleapis.com/google.rpc.BadRequest");
  EXPECT_EQ(body["details"][1]["fieldViolations"][0]["field"], "lines[0].quantity");
  // The body's keys come in a stable order.
  EXPECT_EQ(ErrorJson(decoded).substr(0, 38), R"({"code":9,"message":"not enough stock")");
}

TEST(HttpErrorsTest, CallStatusWinsAndBadTrailersAreIgnored) {
  google::rpc::Status status = RpcStatusFromGrpc(5, "no such order", "\xff\xff garbage");
  EXPECT_EQ(status.code(), 5);
  EXPECT_EQ(status.message(), "no such order");
  EXPECT_EQ(status.details_size(), 0);
  EXPECT_EQ(ErrorJson(status), R"({"code":5,"message":"no such order","details":[]})");
}

TEST(HttpErrorsTest, UnknownDetailTypesFallBackToBase64) {
  google::rpc::Status status;
  status.set_code(2);
  auto* any = status.add_details();
  any->set_type_url("type.googleapis.com/some.Unknown");
  any->set_value("\x08\x01");
  nlohmann::json body = nlohmann::json::parse(ErrorJson(status));
  EXPECT_EQ(body["details"][0]["@type"], "type.googleapis.com/some.Unknown");
  EXPECT_EQ(body["details"][0]["value"], "CAE=");
}

TEST(HttpErrorsTest, LocalErrorsCarryTheirPayloadsAsDetails) {
  FieldViolations violations;
  violations.Add("count", "\"x\" is not a valid int32");
  google::rpc::Status status = RpcStatusFromAbsl(violations.ToStatus("invalid request"));
  nlohmann::json body = nlohmann::json::parse(ErrorJson(status));
  EXPECT_EQ(body["code"], 3);
  EXPECT_EQ(body["message"], "invalid request: count: \"x\" is not a valid int32");
  EXPECT_EQ(body["details"][0]["@type"], "type.googleapis.com/google.rpc.BadRequest");
  EXPECT_EQ(body["details"][0]["fieldViolations"][0]["field"], "count");
}

}  // namespace
}  // namespace shop::bridge
