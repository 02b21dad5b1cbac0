#include "services/logging/merkle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "testdata/rfc6962_vectors.h"

namespace shop::logging {
namespace {

using shop::testdata::kEmptyRootHex;
using shop::testdata::kLeafInputsHex;
using shop::testdata::kRootsHex;
using shop::testdata::ProofVector;

// The published vectors (testdata/rfc6962_vectors.h) and the trivial ones:
// a one-leaf tree proves its leaf, and a tree is consistent with itself,
// with empty proofs.
std::vector<ProofVector> InclusionVectors() {
  std::vector<ProofVector> vectors = {{0, 1, {}}};
  for (const ProofVector& v : shop::testdata::InclusionVectors()) vectors.push_back(v);
  return vectors;
}

std::vector<ProofVector> ConsistencyVectors() {
  std::vector<ProofVector> vectors = {{1, 1, {}}};
  for (const ProofVector& v : shop::testdata::ConsistencyVectors()) vectors.push_back(v);
  return vectors;
}

Hash H(absl::string_view hex) {
  std::optional<Hash> hash = HashFromHex(hex);
  EXPECT_TRUE(hash.has_value()) << hex;
  return hash.value_or(Hash{});
}

std::vector<Hash> Hashes(const std::vector<const char*>& hex) {
  std::vector<Hash> hashes;
  for (const char* h : hex) hashes.push_back(H(h));
  return hashes;
}

MerkleTree VectorTree() {
  MerkleTree tree;
  for (const char* hex : kLeafInputsHex) tree.Append(LeafHash(absl::HexStringToBytes(hex)));
  return tree;
}

// Straight from the definitions in RFC 6962 section 2.1, for cross-checking.
uint64_t Split(uint64_t n) {
  uint64_t k = 1;
  while (2 * k < n) k *= 2;
  return k;
}

Hash NaiveRoot(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end) {
  if (end == begin) return EmptyTreeRoot();
  if (end - begin == 1) return leaves[begin];
  const uint64_t k = Split(end - begin);
  return NodeHash(NaiveRoot(leaves, begin, begin + k), NaiveRoot(leaves, begin + k, end));
}

std::vector<Hash> NaivePath(const std::vector<Hash>& leaves, uint64_t m, uint64_t begin,
                            uint64_t end) {
  if (end - begin <= 1) return {};
  const uint64_t k = Split(end - begin);
  std::vector<Hash> path;
  if (m < k) {
    path = NaivePath(leaves, m, begin, begin + k);
    path.push_back(NaiveRoot(leaves, begin + k, end));
  } else {
    path = NaivePath(leaves, m - k, begin + k, end);
    path.push_back(NaiveRoot(leaves, begin, begin + k));
  }
  return path;
}

std::vector<Hash> NaiveSubproof(const std::vector<Hash>& leaves, uint64_t m, uint64_t begin,
                                uint64_t end, bool b) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (b) return {};
    return {NaiveRoot(leaves, begin, end)};
  }
  const uint64_t k = Split(n);
  std::vector<Hash> proof;
  if (m <= k) {
    proof = NaiveSubproof(leaves, m, begin, begin + k, b);
    proof.push_back(NaiveRoot(leaves, begin + k, end));
  } else {
    proof = NaiveSubproof(leaves, m - k, begin + k, end, false);
    proof.push_back(NaiveRoot(leaves, begin, begin + k));
  }
  return proof;
}

std::vector<Hash> DistinctLeaves(uint64_t n) {
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < n; ++i) leaves.push_back(LeafHash(absl::StrCat("record-", i)));
  return leaves;
}

TEST(MerkleHashTest, EmptyTreeRootIsSha256OfNothing) {
  EXPECT_EQ(HashToHex(EmptyTreeRoot()), kEmptyRootHex);
  EXPECT_EQ(MerkleTree().Root(), EmptyTreeRoot());
  EXPECT_EQ(*MerkleTree().RootAt(0), EmptyTreeRoot());
}

TEST(MerkleHashTest, LeafAndNodeHashesAreDomainSeparated) {
  // The one-leaf root of the vectors is SHA-256(0x00).
  EXPECT_EQ(HashToHex(LeafHash("")), kRootsHex[0]);
  Hash a = LeafHash("a");
  Hash b = LeafHash("b");
  EXPECT_NE(NodeHash(a, b), NodeHash(b, a));
  // A node over (a, b) is not the leaf hash of the 64 bytes a || b.
  EXPECT_NE(NodeHash(a, b), LeafHash(HashToBytes(a) + HashToBytes(b)));
}

TEST(MerkleHashTest, HexAndBytesRoundTrip) {
  Hash hash = LeafHash("round trip");
  EXPECT_EQ(HashFromHex(HashToHex(hash)), hash);
  EXPECT_EQ(HashFromBytes(HashToBytes(hash)), hash);
  EXPECT_EQ(HashToBytes(hash).size(), 32u);

  std::string upper = HashToHex(hash);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(HashFromHex(upper), hash);

  EXPECT_FALSE(HashFromHex("").has_value());
  EXPECT_FALSE(HashFromHex(HashToHex(hash).substr(1)).has_value());
  EXPECT_FALSE(HashFromHex(HashToHex(hash) + "0").has_value());
  std::string bad = HashToHex(hash);
  bad[10] = 'g';
  EXPECT_FALSE(HashFromHex(bad).has_value());
  EXPECT_FALSE(HashFromBytes(std::string(31, 'x')).has_value());
  EXPECT_FALSE(HashFromBytes(std::string(33, 'x')).has_value());
}

TEST(MerkleTreeTest, RootsMatchTheRfc6962Vectors) {
  MerkleTree tree;
  for (int i = 0; i < 8; ++i) {
    tree.Append(LeafHash(absl::HexStringToBytes(kLeafInputsHex[i])));
    ASSERT_EQ(tree.size(), static_cast<uint64_t>(i + 1));
    EXPECT_EQ(HashToHex(tree.Root()), kRootsHex[i]) << "size " << i + 1;
    EXPECT_EQ(HashToHex(*tree.RootAt(0)), kEmptyRootHex);
    for (int j = 0; j <= i; ++j) {
      EXPECT_EQ(HashToHex(*tree.RootAt(j + 1)), kRootsHex[j]) << "size " << j + 1;
    }
  }
  EXPECT_EQ(tree.leaf(3), LeafHash(absl::HexStringToBytes("2021")));
}

TEST(MerkleTreeTest, InclusionProofsMatchTheRfc6962Vectors) {
  MerkleTree tree = VectorTree();
  for (const ProofVector& v : InclusionVectors()) {
    const uint64_t leaf_index = v.first, tree_size = v.second;
    SCOPED_TRACE(absl::StrCat("leaf ", leaf_index, " of ", tree_size));
    absl::StatusOr<std::vector<Hash>> proof = tree.InclusionProof(leaf_index, tree_size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, Hashes(v.proof_hex));
    EXPECT_TRUE(VerifyInclusion(tree.leaf(leaf_index), leaf_index, tree_size, Hashes(v.proof_hex),
                                H(kRootsHex[tree_size - 1])));
  }
}

TEST(MerkleTreeTest, ConsistencyProofsMatchTheRfc6962Vectors) {
  MerkleTree tree = VectorTree();
  for (const ProofVector& v : ConsistencyVectors()) {
    const uint64_t old_size = v.first, new_size = v.second;
    SCOPED_TRACE(absl::StrCat(old_size, " -> ", new_size));
    absl::StatusOr<std::vector<Hash>> proof = tree.ConsistencyProof(old_size, new_size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(*proof, Hashes(v.proof_hex));
    EXPECT_TRUE(VerifyConsistency(old_size, new_size, H(kRootsHex[old_size - 1]),
                                  H(kRootsHex[new_size - 1]), Hashes(v.proof_hex)));
  }
}

TEST(MerkleTreeTest, OutOfRangeArgumentsAreRefused) {
  MerkleTree tree = VectorTree();

  absl::StatusOr<Hash> root = tree.RootAt(9);
  EXPECT_EQ(root.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(root.status().message(), "tree size 9 exceeds the log size 8");

  absl::StatusOr<std::vector<Hash>> proof = tree.InclusionProof(8, 8);
  EXPECT_EQ(proof.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(proof.status().message(), "leaf index 8 is not below the tree size 8");
  proof = tree.InclusionProof(0, 0);
  EXPECT_EQ(proof.status().code(), absl::StatusCode::kInvalidArgument);
  proof = tree.InclusionProof(3, 9);
  EXPECT_EQ(proof.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(proof.status().message(), "tree size 9 exceeds the log size 8");

  proof = tree.ConsistencyProof(5, 4);
  EXPECT_EQ(proof.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(proof.status().message(), "old tree size 5 exceeds the new tree size 4");
  proof = tree.ConsistencyProof(2, 9);
  EXPECT_EQ(proof.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(proof.status().message(), "tree size 9 exceeds the log size 8");
  proof = tree.ConsistencyProof(9, 9);
  EXPECT_EQ(proof.status().code(), absl::StatusCode::kOutOfRange);
}

TEST(MerkleTreeTest, TrivialConsistencyProofsAreEmpty) {
  MerkleTree tree = VectorTree();
  for (uint64_t n = 0; n <= 8; ++n) {
    EXPECT_TRUE(tree.ConsistencyProof(0, n)->empty());
    EXPECT_TRUE(tree.ConsistencyProof(n, n)->empty());
  }
  EXPECT_TRUE(MerkleTree().ConsistencyProof(0, 0)->empty());
}

TEST(MerkleVerifyTest, TrivialConsistency) {
  const Hash empty = EmptyTreeRoot();
  const Hash r1 = H(kRootsHex[0]);
  const Hash r2 = H(kRootsHex[1]);
  EXPECT_TRUE(VerifyConsistency(0, 0, empty, empty, {}));
  EXPECT_TRUE(VerifyConsistency(0, 5, empty, r2, {}));
  EXPECT_TRUE(VerifyConsistency(1, 1, r1, r1, {}));
  // Equal sizes need equal roots; size 0 needs the empty root.
  EXPECT_FALSE(VerifyConsistency(1, 1, r1, r2, {}));
  EXPECT_FALSE(VerifyConsistency(0, 0, r1, r1, {}));
  EXPECT_FALSE(VerifyConsistency(0, 1, r1, r1, {}));
  // Trivial cases take no proof.
  EXPECT_FALSE(VerifyConsistency(1, 1, r1, r1, {r1}));
  EXPECT_FALSE(VerifyConsistency(0, 1, empty, r1, {r1}));
  // Trees do not shrink.
  EXPECT_FALSE(VerifyConsistency(2, 1, r2, r1, {}));
  EXPECT_FALSE(VerifyConsistency(1, 0, r1, empty, {}));
  // A real step needs a proof.
  EXPECT_FALSE(VerifyConsistency(1, 2, r1, r2, {}));
}

TEST(MerkleVerifyTest, TrivialInclusion) {
  const Hash leaf = LeafHash("data");
  EXPECT_TRUE(VerifyInclusion(leaf, 0, 1, {}, leaf));
  EXPECT_FALSE(VerifyInclusion(leaf, 0, 1, {}, EmptyTreeRoot()));
  EXPECT_FALSE(VerifyInclusion(leaf, 0, 0, {}, leaf));
  EXPECT_FALSE(VerifyInclusion(leaf, 1, 1, {}, leaf));
  EXPECT_FALSE(VerifyInclusion(leaf, 2, 1, {}, leaf));
  EXPECT_FALSE(VerifyInclusion(leaf, 0, 1, {leaf}, leaf));
}

constexpr uint64_t kMaxPropertySize = 70;

class MerklePropertyTest : public ::testing::Test {
 protected:
  MerklePropertyTest() : leaves_(DistinctLeaves(kMaxPropertySize)) {
    for (const Hash& leaf : leaves_) tree_.Append(leaf);
  }
  std::vector<Hash> leaves_;
  MerkleTree tree_;
};

TEST_F(MerklePropertyTest, RootAtMatchesTheRecursiveDefinition) {
  MerkleTree growing;
  for (uint64_t n = 0; n <= kMaxPropertySize; ++n) {
    const Hash expected = NaiveRoot(leaves_, 0, n);
    EXPECT_EQ(*tree_.RootAt(n), expected) << n;
    EXPECT_EQ(growing.Root(), expected) << n;
    if (n < kMaxPropertySize) growing.Append(leaves_[n]);
  }
}

TEST_F(MerklePropertyTest, InclusionProofsMatchTheDefinitionAndVerify) {
  for (uint64_t n = 1; n <= kMaxPropertySize; ++n) {
    const Hash root = *tree_.RootAt(n);
    for (uint64_t i = 0; i < n; ++i) {
      SCOPED_TRACE(absl::StrCat("leaf ", i, " of ", n));
      absl::StatusOr<std::vector<Hash>> proof = tree_.InclusionProof(i, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_EQ(*proof, NaivePath(leaves_, i, 0, n));
      EXPECT_TRUE(VerifyInclusion(leaves_[i], i, n, *proof, root));

      // Any flipped byte anywhere in the proof breaks it.
      for (size_t p = 0; p < proof->size(); ++p) {
        for (size_t byte = 0; byte < sizeof(Hash); ++byte) {
          std::vector<Hash> bad = *proof;
          bad[p][byte] ^= 0x01;
          EXPECT_FALSE(VerifyInclusion(leaves_[i], i, n, bad, root)) << p << ":" << byte;
        }
      }
      // The proof is for this leaf at this index only.
      for (uint64_t j = 0; j < n; ++j) {
        if (j == i) continue;
        EXPECT_FALSE(VerifyInclusion(leaves_[i], j, n, *proof, root)) << "index " << j;
        EXPECT_FALSE(VerifyInclusion(leaves_[j], i, n, *proof, root)) << "leaf " << j;
      }
      // ... and for this tree only: another size fails with that tree's root,
      // and doubling or halving the size fails with this one.
      for (uint64_t s = i + 1; s <= kMaxPropertySize; ++s) {
        if (s == n) continue;
        EXPECT_FALSE(VerifyInclusion(leaves_[i], i, s, *proof, *tree_.RootAt(s))) << "size " << s;
      }
      EXPECT_FALSE(VerifyInclusion(leaves_[i], i, n * 2, *proof, root));
      EXPECT_FALSE(VerifyInclusion(leaves_[i], i, n / 2, *proof, root));
      EXPECT_FALSE(VerifyInclusion(leaves_[i], i, n, *proof, EmptyTreeRoot()));
      // Nothing may be added or removed.
      std::vector<Hash> longer = *proof;
      longer.push_back(root);
      EXPECT_FALSE(VerifyInclusion(leaves_[i], i, n, longer, root));
      longer = *proof;
      longer.insert(longer.begin(), leaves_[i]);
      EXPECT_FALSE(VerifyInclusion(leaves_[i], i, n, longer, root));
      if (!proof->empty()) {
        std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
        EXPECT_FALSE(VerifyInclusion(leaves_[i], i, n, shorter, root));
      }
    }
  }
}

TEST_F(MerklePropertyTest, ConsistencyProofsMatchTheDefinitionAndVerify) {
  for (uint64_t n = 1; n <= kMaxPropertySize; ++n) {
    const Hash new_root = *tree_.RootAt(n);
    for (uint64_t m = 0; m <= n; ++m) {
      SCOPED_TRACE(absl::StrCat(m, " -> ", n));
      const Hash old_root = *tree_.RootAt(m);
      absl::StatusOr<std::vector<Hash>> proof = tree_.ConsistencyProof(m, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      if (m == 0 || m == n) {
        EXPECT_TRUE(proof->empty());
      } else {
        EXPECT_EQ(*proof, NaiveSubproof(leaves_, m, 0, n, true));
      }
      EXPECT_TRUE(VerifyConsistency(m, n, old_root, new_root, *proof));
      if (proof->empty()) continue;

      for (size_t p = 0; p < proof->size(); ++p) {
        for (size_t byte = 0; byte < sizeof(Hash); ++byte) {
          std::vector<Hash> bad = *proof;
          bad[p][byte] ^= 0x10;
          EXPECT_FALSE(VerifyConsistency(m, n, old_root, new_root, bad)) << p << ":" << byte;
        }
      }
      // Other sizes fail, even with the roots that belong to them.
      for (uint64_t other = 0; other <= kMaxPropertySize; ++other) {
        if (other != m && other <= n) {
          EXPECT_FALSE(VerifyConsistency(other, n, *tree_.RootAt(other), new_root, *proof))
              << "old size " << other;
        }
        if (other != n && other >= m) {
          EXPECT_FALSE(VerifyConsistency(m, other, old_root, *tree_.RootAt(other), *proof))
              << "new size " << other;
        }
      }
      EXPECT_FALSE(VerifyConsistency(m, n * 2, old_root, new_root, *proof));
      EXPECT_FALSE(VerifyConsistency(m, n, new_root, old_root, *proof));
      EXPECT_FALSE(VerifyConsistency(m, n, old_root, old_root, *proof));
      Hash wrong_old_root = old_root;
      wrong_old_root[0] ^= 0x01;
      EXPECT_FALSE(VerifyConsistency(m, n, wrong_old_root, new_root, *proof));
      Hash wrong_new_root = new_root;
      wrong_new_root[31] ^= 0x80;
      EXPECT_FALSE(VerifyConsistency(m, n, old_root, wrong_new_root, *proof));
      EXPECT_FALSE(VerifyConsistency(m, n, old_root, new_root, {}));
      std::vector<Hash> changed = *proof;
      changed.push_back(proof->back());
      EXPECT_FALSE(VerifyConsistency(m, n, old_root, new_root, changed));
      changed = *proof;
      changed.insert(changed.begin(), old_root);
      EXPECT_FALSE(VerifyConsistency(m, n, old_root, new_root, changed));
      changed.assign(proof->begin(), proof->end() - 1);
      EXPECT_FALSE(VerifyConsistency(m, n, old_root, new_root, changed));
    }
  }
}

TEST(MerkleTreeLargeTest, ManyLeavesAgreeWithTheDefinition) {
  // Not a power of two, so every query crosses a ragged right edge.
  constexpr uint64_t kLeaves = 100003;
  std::vector<Hash> leaves = DistinctLeaves(kLeaves);
  MerkleTree tree;
  for (const Hash& leaf : leaves) tree.Append(leaf);
  ASSERT_EQ(tree.size(), kLeaves);
  EXPECT_EQ(tree.Root(), NaiveRoot(leaves, 0, kLeaves));
  for (uint64_t n : {uint64_t{65536}, uint64_t{65537}, uint64_t{99999}}) {
    EXPECT_EQ(*tree.RootAt(n), NaiveRoot(leaves, 0, n)) << n;
  }
  const Hash root = tree.Root();
  for (uint64_t i : {uint64_t{0}, uint64_t{1}, uint64_t{65535}, uint64_t{65536}, kLeaves - 1}) {
    absl::StatusOr<std::vector<Hash>> proof = tree.InclusionProof(i, kLeaves);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(VerifyInclusion(leaves[i], i, kLeaves, *proof, root)) << i;
  }
  for (uint64_t m : {uint64_t{1}, uint64_t{3}, uint64_t{65536}, uint64_t{77777}, kLeaves - 1}) {
    absl::StatusOr<std::vector<Hash>> proof = tree.ConsistencyProof(m, kLeaves);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(VerifyConsistency(m, kLeaves, *tree.RootAt(m), root, *proof)) << m;
  }
}

// The bounded-memory side: a frontier and proofs from a subtree source must
// give exactly what the whole in-memory tree gives.
TEST(MerkleFrontierTest, AgreesWithTheWholeTreeAtEverySize) {
  MerkleTree tree;
  MerkleFrontier frontier;
  std::vector<MerkleFrontier::Node> completed;
  for (int n = 0; n < 700; ++n) {
    ASSERT_EQ(frontier.Root(), tree.Root()) << n;
    Hash leaf = LeafHash("leaf " + std::to_string(n));
    tree.Append(leaf);
    frontier.Append(leaf, 2, &completed);
  }
  // Every completed subtree of an even level was reported once, with the
  // hash the whole tree holds for it.
  size_t expected = 0;
  for (int level = 2; (uint64_t{1} << level) <= tree.size(); level += 2) {
    expected += tree.size() >> level;
  }
  ASSERT_EQ(completed.size(), expected);
  for (const auto& node : completed) {
    EXPECT_EQ(node.level % 2, 0);
    EXPECT_EQ(node.hash, tree.subtree(node.level, node.index)) << node.level << "/" << node.index;
  }
}

TEST(MerkleFrontierTest, LoadsFromASourceAndProofsFromItMatchTheWholeTree) {
  MerkleTree tree;
  for (int n = 0; n < 300; ++n) tree.Append(LeafHash("leaf " + std::to_string(n)));
  int calls = 0;
  SubtreeSource source = [&](int level, uint64_t index) -> absl::StatusOr<Hash> {
    ++calls;
    return tree.subtree(level, index);
  };
  for (uint64_t size : {0u, 1u, 2u, 3u, 7u, 8u, 100u, 255u, 256u, 257u, 300u}) {
    auto loaded = MerkleFrontier::Load(source, size);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->size(), size);
    EXPECT_EQ(loaded->Root(), *tree.RootAt(size)) << size;
    EXPECT_EQ(*RootFrom(source, size), *tree.RootAt(size)) << size;
    for (uint64_t i = 0; i < size; i += 7) {
      EXPECT_EQ(*InclusionProofFrom(source, i, size), *tree.InclusionProof(i, size));
    }
    for (uint64_t old_size = 0; old_size <= size; old_size += 13) {
      EXPECT_EQ(*ConsistencyProofFrom(source, old_size, size),
                *tree.ConsistencyProof(old_size, size));
    }
  }
  calls = 0;
  ASSERT_TRUE(InclusionProofFrom(source, 5, 300).ok());
  EXPECT_LE(calls, 9 * 9) << "O(log n) subtrees per proof";
  EXPECT_EQ(InclusionProofFrom(source, 300, 300).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProofFrom(source, 10, 9).status().code(),
            absl::StatusCode::kInvalidArgument);
  SubtreeSource broken = [](int, uint64_t) -> absl::StatusOr<Hash> {
    return absl::UnavailableError("storage away");
  };
  EXPECT_EQ(RootFrom(broken, 5).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace shop::logging
