#include "core/listen_address.h"

#include <gtest/gtest.h>

namespace shop {
namespace {

TEST(ListenAddressTest, ParsesHostAndPort) {
  auto v4 = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_EQ(ParseListenAddress("localhost:65535")->port, 65535);
}

TEST(ListenAddressTest, RefusesWhatItCannotBindAndNamesTheFlag) {
  for (const char* bad : {"8080", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:-1", "127.0.0.1:65536",
                          ":8080", "::1:8080", "[]:8080", "[::1:8080"}) {
    auto parsed = ParseListenAddress(bad, "--webhook_listen");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(parsed.status().message().find("--webhook_listen"), absl::string_view::npos) << bad;
  }
}

}  // namespace
}  // namespace shop
