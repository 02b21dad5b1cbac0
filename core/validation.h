// Input checks shared by the edge (ECP) and the services behind it, so that a
// bad request gets the same field violations wherever it is caught.
#ifndef SHOP_CORE_VALIDATION_H_
#define SHOP_CORE_VALIDATION_H_

#include <google/protobuf/repeated_ptr_field.h>

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/status.h"

namespace shop::v1 {
class Address;
class LineItem;
}  // namespace shop::v1

namespace shop {

inline constexpr int kMaxOrderLines = 100;
inline constexpr int kMaxLineQuantity = 1000;
inline constexpr size_t kMaxIdLength = 128;
inline constexpr size_t kMaxTextLength = 200;

// SKUs are 1..64 characters of A-Z, 0-9 and '-', starting with a letter or digit.
bool IsValidSku(absl::string_view sku);
// Ids and keys: 1..128 printable ASCII characters without spaces.
bool IsValidId(absl::string_view id);
bool IsValidUtf8(absl::string_view text);
// Printable ASCII only (no spaces allowed either), any length.
bool IsValidPrintable(absl::string_view text);
// 12 or more digits in a row: something that may be a card number, which
// must never be stored or forwarded by the mesh.
bool HasCardNumberLikeRun(absl::string_view text);

// One order line as the line checks see it (a LineItem, IMS's LineRequest).
struct LineView {
  absl::string_view sku;
  int64_t quantity;
};

// Non-empty, at most kMaxOrderLines, valid SKUs without duplicates,
// quantities in 1..kMaxLineQuantity. `field` names the repeated field. The
// one implementation of these rules, so every service names the same
// violations with the same words.
void ValidateLines(const std::vector<LineView>& lines, absl::string_view field,
                   FieldViolations& violations);
void ValidateLineItems(const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines,
                       absl::string_view field, FieldViolations& violations);

// Name, line1, city, postal code and a two-letter country code are required;
// every part is valid UTF-8 of at most kMaxTextLength bytes.
void ValidateAddress(const shop::v1::Address& address, absl::string_view field,
                     FieldViolations& violations);

// The field messages every service uses for the same rule.
inline constexpr absl::string_view kIdRule = "must be 1-128 printable characters";
inline constexpr absl::string_view kTextRule = "must be valid UTF-8 of at most 200 bytes";

// Adds a violation of `field` unless `value` is a valid id (IsValidId).
void RequireId(absl::string_view field, absl::string_view value, FieldViolations& violations);
// Adds a violation of `field` unless `text` is valid UTF-8 of at most
// kMaxTextLength bytes (empty is fine).
void CheckText(absl::string_view field, absl::string_view text, FieldViolations& violations);

}  // namespace shop

#endif  // SHOP_CORE_VALIDATION_H_
