#include "services/logging/tree_head.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace shop::logging {
namespace {

// A throwaway Ed25519 key made for this test with `openssl genpkey -algorithm
// ed25519`; the signature below came from `openssl pkeyutl -sign -rawin` over
// the layout documented in tree_head.h, built independently with Python's
// struct.pack. tests/rfc6962_verifier_test.cc checks the same vector.
constexpr char kTestPrivateKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDB/tcAPzqAbzBe+epkMuJlas9RLajIyQJETYnEL6DKT\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kTestPublicKeyPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAwpvkQsvd3bywhpwv+sj/HirnNtnoq5CchskCOwaj0DE=\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kTestKeyId[] = "315a17f9bea39be4";
constexpr uint64_t kTestTreeSize = 8;
constexpr char kTestRootHex[] = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
constexpr int64_t kTestTimestampMs = 1700000000123;
constexpr char kTestSigningInputHex[] =
    "73686f706d6573682d747265652d686561642d763100"  // "shopmesh-tree-head-v1\0"
    "0000000000000008"                              // tree_size
    "0000018bcfe5687b"                              // timestamp_unix_ms
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
constexpr char kTestSignatureHex[] =
    "18be57e225389d1ced912bb292f1084ef3591be51b8ce6f1d8c514d6898badd7"
    "d24bb44f4d31f84123678353c14b4eba39eb0622476fc8001fd958e9f0da8402";

TreeHead TestHead() {
  TreeHead head;
  head.tree_size = kTestTreeSize;
  head.root = *HashFromHex(kTestRootHex);
  head.timestamp_unix_ms = kTestTimestampMs;
  return head;
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

std::string PrivatePem(EVP_PKEY* key, const EVP_CIPHER* cipher = nullptr,
                       const char* passphrase = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PKCS8PrivateKey(bio, key, cipher, nullptr, 0, nullptr,
                                          const_cast<char*>(passphrase)),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string PublicPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio, key), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

PkeyPtr NewEd25519Key() { return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  std::string path = ::testing::TempDir() + "tree_head_test_" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

TEST(TreeHeadSigningInputTest, FollowsTheDocumentedLayout) {
  const std::string input = TreeHeadSigningInput(TestHead());
  EXPECT_EQ(input.size(), 70u);
  EXPECT_EQ(absl::BytesToHexString(input), kTestSigningInputHex);

  TreeHead head = TestHead();
  head.tree_size = 0x0102030405060708;
  head.timestamp_unix_ms = -1;
  const std::string other = TreeHeadSigningInput(head);
  EXPECT_EQ(absl::BytesToHexString(other.substr(22, 8)), "0102030405060708");
  EXPECT_EQ(absl::BytesToHexString(other.substr(30, 8)), "ffffffffffffffff");
  EXPECT_EQ(other.substr(38), input.substr(38));
}

TEST(TreeHeadSignerTest, MatchesTheKnownAnswer) {
  absl::StatusOr<std::unique_ptr<TreeHeadSigner>> signer =
      TreeHeadSigner::FromPem(kTestPrivateKeyPem);
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ((*signer)->public_key_pem(), kTestPublicKeyPem);
  EXPECT_EQ((*signer)->key_id(), kTestKeyId);
  const std::string signature = (*signer)->Sign(TestHead());
  EXPECT_EQ(absl::BytesToHexString(signature), kTestSignatureHex);
  EXPECT_TRUE(VerifyTreeHead(kTestPublicKeyPem, TestHead(), signature).ok());
}

TEST(TreeHeadSignerTest, RoundTripsWithAFreshKey) {
  PkeyPtr key = NewEd25519Key();
  ASSERT_NE(key, nullptr);
  const std::string path = WriteTempFile("fresh.pem", PrivatePem(key.get()));
  absl::StatusOr<std::unique_ptr<TreeHeadSigner>> signer = TreeHeadSigner::FromPemFile(path);
  std::remove(path.c_str());
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ((*signer)->public_key_pem(), PublicPem(key.get()));
  EXPECT_EQ((*signer)->key_id().size(), 16u);
  EXPECT_NE((*signer)->key_id(), kTestKeyId);

  TreeHead head = TestHead();
  head.tree_size = 123456789;
  head.root = LeafHash("some root");
  const std::string signature = (*signer)->Sign(head);
  EXPECT_EQ(signature.size(), 64u);
  EXPECT_EQ((*signer)->Sign(head), signature);  // Ed25519 is deterministic.
  EXPECT_TRUE(VerifyTreeHead((*signer)->public_key_pem(), head, signature).ok());
}

TEST(TreeHeadSignerTest, TamperingIsDetected) {
  auto signer = TreeHeadSigner::FromPem(kTestPrivateKeyPem);
  ASSERT_TRUE(signer.ok()) << signer.status();
  const std::string pem = (*signer)->public_key_pem();
  const TreeHead head = TestHead();
  const std::string signature = (*signer)->Sign(head);

  auto expect_unauthenticated = [&](const TreeHead& h, const std::string& sig,
                                    const std::string& what) {
    absl::Status status = VerifyTreeHead(pem, h, sig);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << what << ": " << status;
  };

  TreeHead changed = head;
  changed.tree_size += 1;
  expect_unauthenticated(changed, signature, "tree size");
  absl::Status status = VerifyTreeHead(pem, changed, signature);
  EXPECT_EQ(status.message(),
            "tree head signature does not verify (tree size 9, timestamp 1700000000123)");

  changed = head;
  changed.root[31] ^= 0x01;
  expect_unauthenticated(changed, signature, "root");

  changed = head;
  changed.timestamp_unix_ms += 1;
  expect_unauthenticated(changed, signature, "timestamp");

  for (size_t i = 0; i < signature.size(); ++i) {
    std::string bad = signature;
    bad[i] = static_cast<char>(bad[i] ^ 0x04);
    expect_unauthenticated(head, bad, "signature byte " + std::to_string(i));
  }
  expect_unauthenticated(head, signature.substr(0, 63), "short signature");
  expect_unauthenticated(head, signature + "x", "long signature");
  expect_unauthenticated(head, "", "empty signature");
  EXPECT_EQ(VerifyTreeHead(pem, head, "").message(), "tree head signature is 0 bytes, want 64");

  PkeyPtr other = NewEd25519Key();
  ASSERT_NE(other, nullptr);
  status = VerifyTreeHead(PublicPem(other.get()), head, signature);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
}

TEST(TreeHeadSignerTest, RefusesAnRsaKeyNamingTheFile) {
  PkeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  ASSERT_NE(rsa, nullptr);
  const std::string path = WriteTempFile("rsa.pem", PrivatePem(rsa.get()));
  absl::StatusOr<std::unique_ptr<TreeHeadSigner>> signer = TreeHeadSigner::FromPemFile(path);
  std::remove(path.c_str());
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(signer.status().message(),
            "tree-head signing key " + path + ": the key is RSA, want ED25519");

  absl::Status status = VerifyTreeHead(PublicPem(rsa.get()), TestHead(), std::string(64, 'x'));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "the tree-head public key is RSA, want ED25519");
}

TEST(TreeHeadSignerTest, UnusableKeyFilesAreRefusedNamingTheFile) {
  const std::string missing = ::testing::TempDir() + "tree_head_test_does_not_exist.pem";
  auto signer = TreeHeadSigner::FromPemFile(missing);
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(signer.status().message(), "cannot read tree-head signing key " + missing);

  std::string path = WriteTempFile("garbage.pem", "not a key\n");
  signer = TreeHeadSigner::FromPemFile(path);
  std::remove(path.c_str());
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(signer.status().message(), "tree-head signing key " + path +
                                                              ": no unencrypted PEM private key"))
      << signer.status();

  path = WriteTempFile("empty.pem", "");
  signer = TreeHeadSigner::FromPemFile(path);
  std::remove(path.c_str());
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(signer.status().message(), "tree-head signing key " + path + ": the PEM text is empty");

  // An encrypted key fails instead of prompting for a passphrase.
  PkeyPtr key = NewEd25519Key();
  ASSERT_NE(key, nullptr);
  path = WriteTempFile("encrypted.pem", PrivatePem(key.get(), EVP_aes_256_cbc(), "secret"));
  signer = TreeHeadSigner::FromPemFile(path);
  std::remove(path.c_str());
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kInvalidArgument) << signer.status();
  EXPECT_TRUE(absl::StrContains(signer.status().message(), path)) << signer.status();

  // A public key is not a signing key.
  signer = TreeHeadSigner::FromPem(kTestPublicKeyPem);
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(TreeHeadSigner::FromPemFile("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(VerifyTreeHeadTest, AnUnreadablePublicKeyIsAConfigurationError) {
  absl::Status status = VerifyTreeHead("not a key", TestHead(), std::string(64, 'x'));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(), "cannot parse the tree-head public key: "))
      << status;
  // A private key where the public one belongs is refused too.
  status = VerifyTreeHead(kTestPrivateKeyPem, TestHead(), std::string(64, 'x'));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

}  // namespace
}  // namespace shop::logging
