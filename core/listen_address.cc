#include "core/listen_address.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shop {

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text, absl::string_view flag) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad ", flag, " \"", text, "\": ", why, " (expected host:port)"));
  };
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) return bad("no port");
  ListenAddress address;
  absl::string_view port = text.substr(colon + 1);
  if (port.empty() || !absl::SimpleAtoi(port, &address.port) || address.port < 0 ||
      address.port > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  absl::string_view host = text.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]") && host.size() > 2) {
    host = host.substr(1, host.size() - 2);
  } else if (absl::StrContains(host, ':') || absl::StrContains(host, '[') ||
             absl::StrContains(host, ']')) {
    return bad("an IPv6 address needs brackets, as in [::1]:8080");
  }
  if (host.empty()) return bad("no host");
  address.host = std::string(host);
  return address;
}

}  // namespace shop
