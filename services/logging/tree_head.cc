#include "services/logging/tree_head.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace shop::logging {
namespace {

constexpr char kDomainSeparator[] = "shopmesh-tree-head-v1";  // + its NUL
constexpr size_t kSignatureSize = 64;
constexpr size_t kPublicKeySize = 32;

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// The first queued OpenSSL error, clearing the queue so that it cannot be
// blamed on an unrelated later call on this thread.
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

BioPtr MemBio(absl::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Refuses encrypted keys instead of letting OpenSSL prompt on the terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

std::string KeyTypeName(EVP_PKEY* key) {
  const char* name = EVP_PKEY_get0_type_name(key);
  if (name == nullptr) name = OBJ_nid2sn(EVP_PKEY_get_id(key));
  return name != nullptr ? name : "unknown";
}

void AppendBigEndian(uint64_t value, std::string& out) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

absl::StatusOr<std::string> RawPublicKey(EVP_PKEY* key) {
  unsigned char raw[kPublicKeySize];
  size_t len = sizeof(raw);
  if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof(raw)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot extract the Ed25519 public key: ", OpenSslError()));
  }
  return std::string(reinterpret_cast<const char*>(raw), len);
}

absl::StatusOr<std::string> PublicKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return absl::InternalError(absl::StrCat("cannot encode the public key: ", OpenSslError()));
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string KeyId(absl::string_view raw_public_key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(raw_public_key.data(), raw_public_key.size(), digest, &len, EVP_sha256(),
                 nullptr) != 1) {
    std::fprintf(stderr, "tree_head: SHA-256 failed: %s\n", OpenSslError().c_str());
    std::abort();
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 8));
}

}  // namespace

std::string TreeHeadSigningInput(const TreeHead& head) {
  std::string input(kDomainSeparator, sizeof(kDomainSeparator));  // Keeps the NUL.
  AppendBigEndian(head.tree_size, input);
  AppendBigEndian(static_cast<uint64_t>(head.timestamp_unix_ms), input);
  input.append(reinterpret_cast<const char*>(head.root.data()), head.root.size());
  return input;
}

struct TreeHeadSigner::Key {
  PkeyPtr pkey;
};

TreeHeadSigner::TreeHeadSigner(std::unique_ptr<Key> key, std::string public_key_pem,
                               std::string key_id, std::string raw_public_key)
    : key_(std::move(key)),
      public_key_pem_(std::move(public_key_pem)),
      raw_public_key_(std::move(raw_public_key)),
      key_id_(std::move(key_id)) {}

TreeHeadSigner::~TreeHeadSigner() = default;

absl::StatusOr<std::unique_ptr<TreeHeadSigner>> TreeHeadSigner::FromPemFile(
    const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("tree-head signing key path is empty");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read tree-head signing key ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<std::unique_ptr<TreeHeadSigner>> signer = FromPem(buffer.str());
  if (!signer.ok()) {
    return absl::Status(signer.status().code(), absl::StrCat("tree-head signing key ", path, ": ",
                                                             signer.status().message()));
  }
  return signer;
}

absl::StatusOr<std::unique_ptr<TreeHeadSigner>> TreeHeadSigner::FromPem(absl::string_view pem) {
  if (pem.empty()) return absl::InvalidArgumentError("the PEM text is empty");
  BioPtr bio = MemBio(pem);
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("no unencrypted PEM private key: ", OpenSslError()));
  }
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError(
        absl::StrCat("the key is ", KeyTypeName(pkey.get()), ", want ED25519"));
  }
  absl::StatusOr<std::string> raw = RawPublicKey(pkey.get());
  if (!raw.ok()) return raw.status();
  absl::StatusOr<std::string> public_pem = PublicKeyPem(pkey.get());
  if (!public_pem.ok()) return public_pem.status();
  auto key = std::make_unique<Key>();
  key->pkey = std::move(pkey);
  return std::unique_ptr<TreeHeadSigner>(
      new TreeHeadSigner(std::move(key), *std::move(public_pem), KeyId(*raw), *raw));
}

std::string TreeHeadSigner::Sign(const TreeHead& head) const {
  return SignMessage(TreeHeadSigningInput(head));
}

std::string TreeHeadSigner::SignMessage(absl::string_view input) const {
  std::string signature(kSignatureSize, '\0');
  size_t len = signature.size();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1 ||
      len != kSignatureSize) {
    // The key was checked at load time; Ed25519 signing has no other way to
    // fail, and an unsigned tree head must never be published.
    std::fprintf(stderr, "tree_head: Ed25519 signing failed: %s\n", OpenSslError().c_str());
    std::abort();
  }
  return signature;
}

absl::Status VerifyTreeHead(absl::string_view public_key_pem, const TreeHead& head,
                            absl::string_view signature) {
  absl::Status verified =
      VerifyMessage(public_key_pem, TreeHeadSigningInput(head), signature, nullptr);
  if (verified.code() != absl::StatusCode::kUnauthenticated) return verified;
  if (signature.size() != kSignatureSize) {
    return absl::UnauthenticatedError(
        absl::StrCat("tree head signature is ", signature.size(), " bytes, want ", kSignatureSize));
  }
  return absl::UnauthenticatedError(absl::StrCat("tree head signature does not verify (tree size ",
                                                 head.tree_size, ", timestamp ",
                                                 head.timestamp_unix_ms, ")"));
}

absl::Status VerifyMessage(absl::string_view public_key_pem, absl::string_view input,
                           absl::string_view signature, std::string* raw_public_key) {
  BioPtr bio = MemBio(public_key_pem);
  PkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot parse the tree-head public key: ", OpenSslError()));
  }
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError(
        absl::StrCat("the tree-head public key is ", KeyTypeName(pkey.get()), ", want ED25519"));
  }
  if (signature.size() != kSignatureSize) {
    return absl::UnauthenticatedError(
        absl::StrCat("signature is ", signature.size(), " bytes, want ", kSignatureSize));
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot set up Ed25519 verification: ", OpenSslError()));
  }
  int verified = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(input.data()), input.size());
  if (verified != 1) {
    ERR_clear_error();
    return absl::UnauthenticatedError("the Ed25519 signature does not verify");
  }
  if (raw_public_key != nullptr) {
    absl::StatusOr<std::string> raw = RawPublicKey(pkey.get());
    if (!raw.ok()) return raw.status();
    *raw_public_key = *std::move(raw);
  }
  return absl::OkStatus();
}

}  // namespace shop::logging
