#include "core/ids.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace shop {
namespace {

std::vector<unsigned char> RandomBytes(size_t n) {
  std::vector<unsigned char> bytes(n);
  if (RAND_bytes(bytes.data(), static_cast<int>(n)) != 1) {
    // Without randomness no id is safe to hand out.
    std::fprintf(stderr, "RAND_bytes failed\n");
    std::abort();
  }
  return bytes;
}

}  // namespace

std::string NewId(absl::string_view prefix) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::vector<unsigned char> bytes = RandomBytes(26);
  std::string id(prefix);
  id += '_';
  for (unsigned char b : bytes) id += kAlphabet[b & 31];
  return id;
}

std::string RandomHex(size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : RandomBytes(n)) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

namespace {

std::string FormatUuid(const std::vector<unsigned char>& b) {
  char buf[37];
  std::snprintf(buf, sizeof(buf),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return buf;
}

}  // namespace

std::string NewUuid() {
  std::vector<unsigned char> b = RandomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return FormatUuid(b);
}

std::string NewTimeOrderedUuid() {
  std::vector<unsigned char> b = RandomBytes(16);
  const uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  return FormatUuid(b);
}

}  // namespace shop
