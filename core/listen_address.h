// "host:port" as the servers' --listen flags take it: the one parser for the
// bridge and the webhook endpoint (and anything else that binds a port
// itself; gRPC servers hand the string to gRPC).
#ifndef SHOP_CORE_LISTEN_ADDRESS_H_
#define SHOP_CORE_LISTEN_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shop {

struct ListenAddress {
  std::string host;  // without the brackets of an IPv6 literal
  int port = 0;      // 0: any free port
};

// "127.0.0.1:8080", "[::1]:0", "0.0.0.0:443". INVALID_ARGUMENT naming `flag`
// for a missing or empty host, a port that is not a number in 0..65535, or
// an IPv6 literal without its brackets.
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text,
                                                 absl::string_view flag = "--listen");

}  // namespace shop

#endif  // SHOP_CORE_LISTEN_ADDRESS_H_
