// Input checks shared by the edge (ECP) and the services behind it, so that a
// bad request gets the same field violations wherever it is caught.
#ifndef SHOP_CORE_VALIDATION_H_
#define SHOP_CORE_VALIDATION_H_

#include <google/protobuf/repeated_ptr_field.h>

#include "absl/strings/string_view.h"
#include "core/status.h"

namespace shop::v1 {
class Address;
class LineItem;
class ProcessOrderRequest;
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

// Non-empty, at most kMaxOrderLines, valid SKUs without duplicates,
// quantities in 1..kMaxLineQuantity. `field` names the repeated field.
void ValidateLineItems(const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines,
                       absl::string_view field, FieldViolations& violations);

// Name, line1, city, postal code and a two-letter country code are required;
// every part is valid UTF-8 of at most kMaxTextLength bytes.
void ValidateAddress(const shop::v1::Address& address, absl::string_view field,
                     FieldViolations& violations);

// A whole order request: customer, lines, addresses, payment token
// (pm_..., never a card number) and idempotency key. INVALID_ARGUMENT with a
// BadRequest listing every problem.
absl::Status ValidateProcessOrderRequest(const shop::v1::ProcessOrderRequest& request);

}  // namespace shop

#endif  // SHOP_CORE_VALIDATION_H_
