#include "tests/rfc6962_verifier.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testdata/rfc6962_vectors.h"

namespace shop::testing {
namespace {

using shop::testdata::ConsistencyVectors;
using shop::testdata::InclusionVectors;
using shop::testdata::kEmptyRootHex;
using shop::testdata::kLeafInputsHex;
using shop::testdata::kRootsHex;
using shop::testdata::ProofVector;

// The signed tree head vector of services/logging/tree_head_test.cc, made with
// the openssl command line from the documented layout.
const char kTestPublicKeyPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAwpvkQsvd3bywhpwv+sj/HirnNtnoq5CchskCOwaj0DE=\n"
    "-----END PUBLIC KEY-----\n";
const char kTestMessageHex[] =
    "73686f706d6573682d747265652d686561642d763100"
    "0000000000000008"
    "0000018bcfe5687b"
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
const char kTestSignatureHex[] =
    "18be57e225389d1ced912bb292f1084ef3591be51b8ce6f1d8c514d6898badd7"
    "d24bb44f4d31f84123678353c14b4eba39eb0622476fc8001fd958e9f0da8402";
constexpr int64_t kTestTimestampMs = 1700000000123;

std::string Unhex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    ADD_FAILURE() << "bad hex digit " << c;
    return 0;
  };
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return bytes;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : bytes) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  }
  return hex;
}

std::vector<std::string> UnhexAll(const std::vector<const char*>& hex) {
  std::vector<std::string> out;
  for (const char* h : hex) out.push_back(Unhex(h));
  return out;
}

std::vector<std::string> VectorLeafHashes(size_t n) {
  std::vector<std::string> leaves;
  for (size_t i = 0; i < n; ++i) leaves.push_back(Rfc6962LeafHash(Unhex(kLeafInputsHex[i])));
  return leaves;
}

std::string Root(size_t n) { return n == 0 ? Unhex(kEmptyRootHex) : Unhex(kRootsHex[n - 1]); }

// Proof generators straight from the recursive definitions of RFC 6962
// section 2.1, to feed the verifier many more cases than the vectors.
uint64_t Split(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

std::vector<std::string> Slice(const std::vector<std::string>& v, uint64_t begin, uint64_t end) {
  return std::vector<std::string>(v.begin() + begin, v.begin() + end);
}

std::vector<std::string> Path(uint64_t m, const std::vector<std::string>& d) {
  if (d.size() <= 1) return {};
  const uint64_t k = Split(d.size());
  std::vector<std::string> path;
  if (m < k) {
    path = Path(m, Slice(d, 0, k));
    path.push_back(Rfc6962RootFromLeafHashes(Slice(d, k, d.size())));
  } else {
    path = Path(m - k, Slice(d, k, d.size()));
    path.push_back(Rfc6962RootFromLeafHashes(Slice(d, 0, k)));
  }
  return path;
}

std::vector<std::string> Subproof(uint64_t m, const std::vector<std::string>& d, bool b) {
  if (m == d.size()) {
    if (b) return {};
    return {Rfc6962RootFromLeafHashes(d)};
  }
  const uint64_t k = Split(d.size());
  std::vector<std::string> proof;
  if (m <= k) {
    proof = Subproof(m, Slice(d, 0, k), b);
    proof.push_back(Rfc6962RootFromLeafHashes(Slice(d, k, d.size())));
  } else {
    proof = Subproof(m - k, Slice(d, k, d.size()), false);
    proof.push_back(Rfc6962RootFromLeafHashes(Slice(d, 0, k)));
  }
  return proof;
}

TEST(Rfc6962VerifierTest, RootsMatchTheVectors) {
  EXPECT_EQ(Hex(Rfc6962RootFromLeafHashes({})), kEmptyRootHex);
  for (size_t n = 1; n <= 8; ++n) {
    EXPECT_EQ(Hex(Rfc6962RootFromLeafHashes(VectorLeafHashes(n))), kRootsHex[n - 1]) << n;
  }
}

TEST(Rfc6962VerifierTest, AcceptsThePublishedInclusionProofsAndNothingNearThem) {
  const std::vector<std::string> leaves = VectorLeafHashes(8);
  EXPECT_TRUE(VerifyInclusionProof(leaves[0], 0, 1, {}, Root(1)));
  for (const ProofVector& v : InclusionVectors()) {
    SCOPED_TRACE("leaf " + std::to_string(v.first) + " of " + std::to_string(v.second));
    const std::vector<std::string> proof = UnhexAll(v.proof_hex);
    const std::string& leaf = leaves[v.first];
    const std::string root = Root(v.second);
    EXPECT_TRUE(VerifyInclusionProof(leaf, v.first, v.second, proof, root));

    EXPECT_FALSE(VerifyInclusionProof(leaf, v.first + 1, v.second, proof, root));
    if (v.first > 0) {
      EXPECT_FALSE(VerifyInclusionProof(leaf, v.first - 1, v.second, proof, root));
    }
    EXPECT_FALSE(VerifyInclusionProof(leaf, v.first ^ 2, v.second, proof, root));
    EXPECT_FALSE(VerifyInclusionProof(leaf, v.first, v.second * 2, proof, root));
    EXPECT_FALSE(VerifyInclusionProof(leaf, v.first, v.second / 2, proof, root));
    EXPECT_FALSE(
        VerifyInclusionProof(Rfc6962LeafHash("WrongLeaf"), v.first, v.second, proof, root));
    EXPECT_FALSE(VerifyInclusionProof(leaf, v.first, v.second, proof, Root(0)));
    for (size_t i = 0; i < proof.size(); ++i) {
      std::vector<std::string> bad = proof;
      bad[i][0] = static_cast<char>(bad[i][0] ^ 8);
      EXPECT_FALSE(VerifyInclusionProof(leaf, v.first, v.second, bad, root)) << i;
    }
    std::vector<std::string> changed = proof;
    changed.push_back(root);
    EXPECT_FALSE(VerifyInclusionProof(leaf, v.first, v.second, changed, root));
    changed.assign(proof.begin(), proof.end() - 1);
    EXPECT_FALSE(VerifyInclusionProof(leaf, v.first, v.second, changed, root));
    changed = proof;
    changed.insert(changed.begin(), root);
    EXPECT_FALSE(VerifyInclusionProof(leaf, v.first, v.second, changed, root));
    changed = proof;
    changed.push_back("");
    EXPECT_FALSE(VerifyInclusionProof(leaf, v.first, v.second, changed, root));
  }
}

TEST(Rfc6962VerifierTest, AcceptsThePublishedConsistencyProofsAndNothingNearThem) {
  for (const ProofVector& v : ConsistencyVectors()) {
    SCOPED_TRACE(std::to_string(v.first) + " -> " + std::to_string(v.second));
    const std::vector<std::string> proof = UnhexAll(v.proof_hex);
    const std::string r1 = Root(v.first);
    const std::string r2 = Root(v.second);
    EXPECT_TRUE(VerifyConsistencyProof(v.first, v.second, r1, r2, proof));

    EXPECT_FALSE(VerifyConsistencyProof(v.first - 1, v.second, r1, r2, proof));
    EXPECT_FALSE(VerifyConsistencyProof(v.first + 1, v.second, r1, r2, proof));
    EXPECT_FALSE(VerifyConsistencyProof(v.first ^ 2, v.second, r1, r2, proof));
    EXPECT_FALSE(VerifyConsistencyProof(v.first, v.second * 2, r1, r2, proof));
    EXPECT_FALSE(VerifyConsistencyProof(v.first, v.second / 2, r1, r2, proof));
    EXPECT_FALSE(VerifyConsistencyProof(v.first, v.second, r2, r1, proof));
    EXPECT_FALSE(VerifyConsistencyProof(v.first, v.second, r1, Root(0), proof));
    EXPECT_FALSE(VerifyConsistencyProof(v.first, v.second, Root(0), r2, proof));
    EXPECT_FALSE(VerifyConsistencyProof(v.first, v.second, r1, r2, {}));
    for (size_t i = 0; i < proof.size(); ++i) {
      std::vector<std::string> bad = proof;
      bad[i][0] = static_cast<char>(bad[i][0] ^ 16);
      EXPECT_FALSE(VerifyConsistencyProof(v.first, v.second, r1, r2, bad)) << i;
    }
    std::vector<std::string> changed = proof;
    changed.push_back(proof.back());
    EXPECT_FALSE(VerifyConsistencyProof(v.first, v.second, r1, r2, changed));
    changed.assign(proof.begin(), proof.end() - 1);
    EXPECT_FALSE(VerifyConsistencyProof(v.first, v.second, r1, r2, changed));
    changed = proof;
    changed.insert(changed.begin(), proof[0]);
    EXPECT_FALSE(VerifyConsistencyProof(v.first, v.second, r1, r2, changed));
  }
}

TEST(Rfc6962VerifierTest, TrivialConsistency) {
  EXPECT_TRUE(VerifyConsistencyProof(0, 0, Root(0), Root(0), {}));
  EXPECT_TRUE(VerifyConsistencyProof(0, 3, Root(0), Root(3), {}));
  EXPECT_TRUE(VerifyConsistencyProof(1, 1, Root(1), Root(1), {}));
  EXPECT_FALSE(VerifyConsistencyProof(1, 1, Root(1), Root(2), {}));
  EXPECT_FALSE(VerifyConsistencyProof(0, 1, Root(1), Root(1), {}));
  EXPECT_FALSE(VerifyConsistencyProof(1, 1, Root(1), Root(1), {Root(1)}));
  EXPECT_FALSE(VerifyConsistencyProof(2, 1, Root(2), Root(1), {}));
  EXPECT_FALSE(VerifyConsistencyProof(1, 2, Root(1), Root(2), {}));
  EXPECT_FALSE(VerifyConsistencyProof(1, 1, "short", "short", {}));
}

TEST(Rfc6962VerifierTest, AgreesWithTheRecursiveDefinitionUpToSixtyFourLeaves) {
  std::vector<std::string> leaves;
  for (int i = 0; i < 64; ++i) leaves.push_back(Rfc6962LeafHash("entry " + std::to_string(i)));
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const std::vector<std::string> tree = Slice(leaves, 0, n);
    const std::string root = Rfc6962RootFromLeafHashes(tree);
    for (uint64_t i = 0; i < n; ++i) {
      const std::vector<std::string> path = Path(i, tree);
      EXPECT_TRUE(VerifyInclusionProof(tree[i], i, n, path, root)) << i << " of " << n;
      for (size_t p = 0; p < path.size(); ++p) {
        std::vector<std::string> bad = path;
        bad[p][p % 32] = static_cast<char>(bad[p][p % 32] ^ 1);
        EXPECT_FALSE(VerifyInclusionProof(tree[i], i, n, bad, root)) << i << " of " << n;
      }
    }
    for (uint64_t m = 1; m < n; ++m) {
      const std::vector<std::string> proof = Subproof(m, tree, true);
      const std::string old_root = Rfc6962RootFromLeafHashes(Slice(leaves, 0, m));
      EXPECT_TRUE(VerifyConsistencyProof(m, n, old_root, root, proof)) << m << " -> " << n;
      std::string wrong_old_root = old_root;
      wrong_old_root[5] = static_cast<char>(wrong_old_root[5] ^ 2);
      EXPECT_FALSE(VerifyConsistencyProof(m, n, wrong_old_root, root, proof)) << m << " -> " << n;
      for (size_t p = 0; p < proof.size(); ++p) {
        std::vector<std::string> bad = proof;
        bad[p][31 - p % 32] = static_cast<char>(bad[p][31 - p % 32] ^ 0x80);
        EXPECT_FALSE(VerifyConsistencyProof(m, n, old_root, root, bad)) << m << " -> " << n;
      }
    }
  }
}

TEST(Rfc6962VerifierTest, SignedTreeHeadMatchesTheKnownAnswer) {
  const std::string root = Root(8);
  EXPECT_EQ(Hex(ShopmeshTreeHeadMessage(8, root, kTestTimestampMs)), kTestMessageHex);
  const std::string signature = Unhex(kTestSignatureHex);
  EXPECT_TRUE(VerifySignedTreeHead(kTestPublicKeyPem, 8, root, kTestTimestampMs, signature));

  EXPECT_FALSE(VerifySignedTreeHead(kTestPublicKeyPem, 9, root, kTestTimestampMs, signature));
  EXPECT_FALSE(VerifySignedTreeHead(kTestPublicKeyPem, 8, Root(7), kTestTimestampMs, signature));
  EXPECT_FALSE(VerifySignedTreeHead(kTestPublicKeyPem, 8, root, kTestTimestampMs + 1, signature));
  std::string bad = signature;
  bad[10] = static_cast<char>(bad[10] ^ 1);
  EXPECT_FALSE(VerifySignedTreeHead(kTestPublicKeyPem, 8, root, kTestTimestampMs, bad));
  EXPECT_FALSE(
      VerifySignedTreeHead(kTestPublicKeyPem, 8, root, kTestTimestampMs, signature.substr(1)));
  EXPECT_FALSE(VerifySignedTreeHead("not a key", 8, root, kTestTimestampMs, signature));
}

}  // namespace
}  // namespace shop::testing
