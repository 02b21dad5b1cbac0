// Checkpoints: the audit log's tree head as a C2SP signed note
// (c2sp.org/tlog-checkpoint, c2sp.org/signed-note), the format the
// transparency-log ecosystem's witnesses cosign. An auditor keeps the last
// checkpoint it verified, outside the log's database, and refuses any later
// log that is smaller than it or not an extension of it: truncating the tail
// of the log together with its tree heads is then detected.
//
// The note text, every line ending in "\n":
//   shop.local/audit-log            the origin (the log's name)
//   <tree size>                     decimal
//   <root hash>                     standard base64 of the 32 bytes
//                                   (an empty line ends the body)
//   — shop.local/audit-log <base64(key hash[4] || Ed25519 signature[64])>
// The signature covers the body (the first three lines with their "\n").
// The key hash is the first 4 bytes of SHA-256(origin || "\n" || 0x01 ||
// the raw 32-byte Ed25519 public key), as signed-note defines for Ed25519.
#ifndef SHOP_SERVICES_LOGGING_CHECKPOINT_H_
#define SHOP_SERVICES_LOGGING_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/logging/merkle.h"
#include "services/logging/tree_head.h"

namespace shop::logging {

inline constexpr char kCheckpointOrigin[] = "shop.local/audit-log";

struct Checkpoint {
  uint64_t tree_size = 0;
  Hash root{};
};

// The signed note of `checkpoint`, signed by the log's key.
std::string SignCheckpoint(const TreeHeadSigner& signer, const Checkpoint& checkpoint);

// The checkpoint in `note` once its signature by `public_key_pem` verifies.
// UNAUTHENTICATED when no signature of that key verifies; INVALID_ARGUMENT
// when the note is not a checkpoint of this log (format, origin, numbers).
absl::StatusOr<Checkpoint> OpenCheckpoint(absl::string_view public_key_pem, absl::string_view note);

// OK when `latest` extends `kept`: at least as large, and `proof` (the
// consistency proof from kept.tree_size to latest.tree_size) shows the
// smaller tree is a prefix of the larger. DATA_LOSS otherwise, saying which.
absl::Status CheckCheckpointFollows(const Checkpoint& kept, const Checkpoint& latest,
                                    const std::vector<Hash>& proof);

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_CHECKPOINT_H_
