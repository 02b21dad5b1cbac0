#include "core/config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shop {
namespace {

std::string Found(std::vector<std::string> args) {
  args.insert(args.begin(), "program");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return SecretFlagOnCommandLine(static_cast<int>(argv.size()), argv.data(), {"token", "api_key"});
}

TEST(SecretFlagTest, EverySpellingOfASecretFlagIsFound) {
  EXPECT_EQ(Found({"--token=abc"}), "token");
  EXPECT_EQ(Found({"-token=abc"}), "token");
  EXPECT_EQ(Found({"--listen=x", "--api_key", "abc"}), "api_key");
  EXPECT_EQ(Found({"-api_key"}), "api_key");
}

TEST(SecretFlagTest, OtherFlagsAndPositionalWordsAreNotSecrets) {
  EXPECT_EQ(Found({}), "");
  EXPECT_EQ(Found({"--token_file=/x", "--api_keys=3", "token", "api_key"}), "");
  EXPECT_EQ(Found({"place", "--", "--token=abc"}), "");
}

}  // namespace
}  // namespace shop
