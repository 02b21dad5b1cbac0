#include "core/validation.h"

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "shop/v1/types.pb.h"

namespace shop {
namespace {

google::protobuf::RepeatedPtrField<shop::v1::LineItem> Lines(
    std::initializer_list<std::pair<const char*, int>> items) {
  google::protobuf::RepeatedPtrField<shop::v1::LineItem> lines;
  for (const auto& [sku, quantity] : items) {
    auto* line = lines.Add();
    line->set_sku(sku);
    line->set_quantity(quantity);
  }
  return lines;
}

std::vector<std::string> Fields(const FieldViolations& violations) {
  google::rpc::BadRequest bad_request;
  std::vector<std::string> fields;
  if (GetDetail(violations.ToStatus(), bad_request)) {
    for (const auto& v : bad_request.field_violations()) fields.push_back(v.field());
  }
  return fields;
}

TEST(ValidationTest, GoodLinesPass) {
  FieldViolations violations;
  ValidateLineItems(Lines({{"MUG-CLASSIC", 2}, {"BEANS-1KG", 1}}), "lines", violations);
  EXPECT_TRUE(violations.empty());
}

TEST(ValidationTest, EveryBadLineIsNamed) {
  FieldViolations violations;
  ValidateLineItems(Lines({{"mug", 1}, {"A", 0}, {"A", 1001}, {"B", 1}, {"B", 2}}), "lines",
                    violations);
  EXPECT_EQ(Fields(violations),
            (std::vector<std::string>{"lines[0].sku", "lines[1].quantity", "lines[2].sku",
                                      "lines[2].quantity", "lines[4].sku"}));
}

TEST(ValidationTest, EmptyAndTooManyLines) {
  FieldViolations empty;
  ValidateLineItems(Lines({}), "lines", empty);
  EXPECT_EQ(Fields(empty), std::vector<std::string>{"lines"});
  google::protobuf::RepeatedPtrField<shop::v1::LineItem> many;
  for (int i = 0; i < 101; ++i) {
    auto* line = many.Add();
    line->set_sku("SKU-" + std::to_string(i));
    line->set_quantity(1);
  }
  FieldViolations too_many;
  ValidateLineItems(many, "lines", too_many);
  EXPECT_EQ(too_many.ToStatus().message(), "invalid request: lines: at most 100 lines, got 101");
}

TEST(ValidationTest, AddressNeedsItsPartsAndValidText) {
  shop::v1::Address address;
  address.set_name("Ada");
  address.set_line1(std::string("1 Main St\xc3\x28", 11));  // invalid UTF-8
  address.set_city(std::string(201, 'x'));
  address.set_postal_code("10001");
  address.set_country_code("usa");
  FieldViolations violations;
  ValidateAddress(address, "shipping_address", violations);
  EXPECT_EQ(Fields(violations),
            (std::vector<std::string>{"shipping_address.line1", "shipping_address.city",
                                      "shipping_address.country_code"}));
}

TEST(ValidationTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
}

TEST(ValidationTest, Ids) {
  EXPECT_TRUE(IsValidId("ord_abc"));
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId("has space"));
  EXPECT_FALSE(IsValidId(std::string(129, 'a')));
}

}  // namespace
}  // namespace shop

namespace shop {
namespace {

TEST(ValidationTest, CardNumberLikeRuns) {
  EXPECT_TRUE(HasCardNumberLikeRun("pm_4242424242424242"));
  EXPECT_TRUE(HasCardNumberLikeRun("4000000000000002"));
  EXPECT_FALSE(HasCardNumberLikeRun("pm_card_visa"));
  EXPECT_FALSE(HasCardNumberLikeRun("pm_Y5a7K25Aze73fEZL2V24twKS"));
  EXPECT_FALSE(HasCardNumberLikeRun("12345678901"));  // 11 digits
}

}  // namespace
}  // namespace shop
