#include "core/spiffe.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace shop {

std::string SpiffeIdFor(absl::string_view service_account) {
  return absl::StrCat(kWorkloadIdPrefix, service_account);
}

std::optional<std::string> ServiceAccountOf(absl::string_view spiffe_id) {
  if (!absl::ConsumePrefix(&spiffe_id, kWorkloadIdPrefix)) return std::nullopt;
  if (spiffe_id.empty() || spiffe_id.size() > 63) return std::nullopt;
  for (char c : spiffe_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return std::nullopt;
  }
  return std::string(spiffe_id);
}

}  // namespace shop
