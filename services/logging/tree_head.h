// Signed tree heads: the audit log's Ed25519 signature over (size, root,
// time), which is what makes its Merkle proofs binding for a reader.
#ifndef SHOP_SERVICES_LOGGING_TREE_HEAD_H_
#define SHOP_SERVICES_LOGGING_TREE_HEAD_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/logging/merkle.h"

namespace shop::logging {

struct TreeHead {
  uint64_t tree_size = 0;
  Hash root{};
  int64_t timestamp_unix_ms = 0;
};

// The exact bytes an Ed25519 signature covers (70 bytes, no length prefixes,
// nothing variable-length, so no two tree heads share an encoding):
//
//   offset  size  content
//        0    22  the ASCII domain separator "shopmesh-tree-head-v1"
//                 followed by one 0x00 byte
//       22     8  tree_size, unsigned, big-endian
//       30     8  timestamp_unix_ms (milliseconds since the Unix epoch),
//                 as a 64-bit two's-complement integer, big-endian
//       38    32  root, the RFC 6962 Merkle tree hash (raw bytes)
//
// The signature is plain Ed25519 (RFC 8032, "pure", no pre-hash, no
// context) over these bytes: 64 raw bytes.
std::string TreeHeadSigningInput(const TreeHead& head);

// Signs tree heads with the log's Ed25519 private key. Immutable after
// construction; Sign is safe to call from several threads.
class TreeHeadSigner {
 public:
  // Loads a PEM private key ("BEGIN PRIVATE KEY", PKCS#8, unencrypted), as
  // written by `openssl genpkey -algorithm ed25519`. NOT_FOUND when the file
  // cannot be read, INVALID_ARGUMENT when it holds no usable key or a key
  // that is not Ed25519; every message names the file.
  static absl::StatusOr<std::unique_ptr<TreeHeadSigner>> FromPemFile(const std::string& path);
  // Same from the PEM text; INVALID_ARGUMENT as above.
  static absl::StatusOr<std::unique_ptr<TreeHeadSigner>> FromPem(absl::string_view pem);

  ~TreeHeadSigner();
  TreeHeadSigner(const TreeHeadSigner&) = delete;
  TreeHeadSigner& operator=(const TreeHeadSigner&) = delete;

  // The 64-byte Ed25519 signature over TreeHeadSigningInput(head).
  // Deterministic: the same head always gets the same signature.
  std::string Sign(const TreeHead& head) const;

  // The 64-byte Ed25519 signature over `message` as it is (for checkpoints,
  // whose signed text carries its own framing).
  std::string SignMessage(absl::string_view message) const;
  // The raw 32-byte Ed25519 public key.
  const std::string& raw_public_key() const { return raw_public_key_; }

  // The public key as PEM ("BEGIN PUBLIC KEY", SubjectPublicKeyInfo), for
  // VerifyTreeHead and for publishing.
  const std::string& public_key_pem() const { return public_key_pem_; }
  // Names the key in tree heads and logs: the lowercase hex of the first 8
  // bytes of SHA-256 over the raw 32-byte public key (16 hex digits).
  const std::string& key_id() const { return key_id_; }

 private:
  struct Key;
  TreeHeadSigner(std::unique_ptr<Key> key, std::string public_key_pem, std::string key_id,
                 std::string raw_public_key);

  std::unique_ptr<Key> key_;
  std::string public_key_pem_;
  std::string raw_public_key_;
  std::string key_id_;
};

// Checks `signature` on `head` against a PEM Ed25519 public key.
//   OK                 the signature is valid for exactly this head;
//   UNAUTHENTICATED    it is not (wrong size, root, time, key, or a malformed
//                      signature): whoever checks its own storage should
//                      report this as DATA_LOSS;
//   INVALID_ARGUMENT   the public key is unreadable or not Ed25519 (a
//                      configuration error, not evidence of tampering).
absl::Status VerifyTreeHead(absl::string_view public_key_pem, const TreeHead& head,
                            absl::string_view signature);

// Checks an Ed25519 `signature` over `message`; the same outcomes as
// VerifyTreeHead. On success, `*raw_public_key` (when given) receives the
// key's raw 32 bytes.
absl::Status VerifyMessage(absl::string_view public_key_pem, absl::string_view message,
                           absl::string_view signature, std::string* raw_public_key = nullptr);

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_TREE_HEAD_H_
