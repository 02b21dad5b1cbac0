#include "services/logging/checkpoint.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace shop::logging {
namespace {

constexpr char kSignaturePrefix[] = "\xe2\x80\x94 ";  // an em dash and a space
constexpr char kEd25519Type = 0x01;

std::string Body(const Checkpoint& checkpoint) {
  return absl::StrCat(kCheckpointOrigin, "\n", checkpoint.tree_size, "\n",
                      absl::Base64Escape(HashToBytes(checkpoint.root)), "\n");
}

std::string KeyHash(absl::string_view raw_public_key) {
  const std::string input =
      absl::StrCat(kCheckpointOrigin, "\n", std::string(1, kEd25519Type), raw_public_key);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), 4);
}

}  // namespace

std::string SignCheckpoint(const TreeHeadSigner& signer, const Checkpoint& checkpoint) {
  const std::string body = Body(checkpoint);
  const std::string signature = signer.SignMessage(body);
  return absl::StrCat(body, "\n", kSignaturePrefix, kCheckpointOrigin, " ",
                      absl::Base64Escape(KeyHash(signer.raw_public_key()) + signature), "\n");
}

absl::StatusOr<Checkpoint> OpenCheckpoint(absl::string_view public_key_pem,
                                          absl::string_view note) {
  const size_t split = note.find("\n\n");
  if (split == absl::string_view::npos || note.size() > size_t{64} * 1024) {
    return absl::InvalidArgumentError("not a signed note (no empty line after the body)");
  }
  const absl::string_view body = note.substr(0, split + 1);
  const absl::string_view signatures = note.substr(split + 2);
  std::vector<absl::string_view> lines = absl::StrSplit(body, '\n');
  // "origin", "size", "root", then "" after the last "\n"; extension lines
  // are allowed by the format, and ignored.
  if (lines.size() < 4 || lines[0] != kCheckpointOrigin) {
    return absl::InvalidArgumentError(absl::StrCat("not a checkpoint of ", kCheckpointOrigin,
                                                   " (origin line is \"",
                                                   lines.empty() ? "" : lines[0], "\")"));
  }
  Checkpoint checkpoint;
  if (lines[1].empty() || lines[1].size() > 20 || lines[1][0] == '+' ||
      (lines[1].size() > 1 && lines[1][0] == '0') ||
      !absl::SimpleAtoi(lines[1], &checkpoint.tree_size)) {
    return absl::InvalidArgumentError(absl::StrCat("bad tree size \"", lines[1], "\""));
  }
  std::string root_bytes;
  std::optional<Hash> root;
  if (!absl::Base64Unescape(lines[2], &root_bytes) || absl::Base64Escape(root_bytes) != lines[2] ||
      !(root = HashFromBytes(root_bytes))) {
    return absl::InvalidArgumentError("bad root hash (want standard base64 of 32 bytes)");
  }
  checkpoint.root = *root;
  // Any signature line by this log's key that verifies; other keys' lines
  // (a witness's cosignature) are not this check's business.
  absl::Status last = absl::UnauthenticatedError("the note carries no signature of the log's key");
  for (absl::string_view line : absl::StrSplit(signatures, '\n', absl::SkipEmpty())) {
    const std::string prefix = absl::StrCat(kSignaturePrefix, kCheckpointOrigin, " ");
    if (!absl::ConsumePrefix(&line, prefix)) continue;
    std::string blob;
    if (!absl::Base64Unescape(line, &blob) || blob.size() != 4 + 64) continue;
    std::string raw_key;
    absl::Status verified = VerifyMessage(public_key_pem, body, blob.substr(4), &raw_key);
    if (verified.code() == absl::StatusCode::kInvalidArgument) return verified;
    if (verified.ok() && blob.substr(0, 4) != KeyHash(raw_key)) {
      verified = absl::UnauthenticatedError("the signature's key hash is not the log key's");
    }
    if (verified.ok()) return checkpoint;
    last = verified;
  }
  return absl::UnauthenticatedError(
      absl::StrCat("checkpoint signature does not verify: ", last.message()));
}

absl::Status CheckCheckpointFollows(const Checkpoint& kept, const Checkpoint& latest,
                                    const std::vector<Hash>& proof) {
  if (latest.tree_size < kept.tree_size) {
    return absl::DataLossError(absl::StrCat(
        "the log holds ", latest.tree_size, " records but a checkpoint kept earlier shows ",
        kept.tree_size, ": its tail was truncated (or this is another log)"));
  }
  if (!VerifyConsistency(kept.tree_size, latest.tree_size, kept.root, latest.root, proof)) {
    return absl::DataLossError(absl::StrCat(
        "the log of ", latest.tree_size, " records is not an extension of the checkpoint kept at ",
        kept.tree_size, " records: its history was rewritten"));
  }
  return absl::OkStatus();
}

}  // namespace shop::logging
