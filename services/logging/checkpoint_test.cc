#include "services/logging/checkpoint.h"

#include <gtest/gtest.h>

#include "absl/strings/str_split.h"
#include "core/test_keys.h"

namespace shop::logging {
namespace {

std::unique_ptr<TreeHeadSigner> NewSigner() {
  auto signer = TreeHeadSigner::FromPem(shop::testing::NewEd25519KeyPem());
  EXPECT_TRUE(signer.ok()) << signer.status();
  return std::move(*signer);
}

MerkleTree TreeOf(int leaves, const std::string& salt = "") {
  MerkleTree tree;
  for (int i = 0; i < leaves; ++i) tree.Append(LeafHash(salt + "record " + std::to_string(i)));
  return tree;
}

Checkpoint At(const MerkleTree& tree, uint64_t size) { return {size, *tree.RootAt(size)}; }

TEST(CheckpointTest, IsASignedNoteThatOpensToTheSameHead) {
  auto signer = NewSigner();
  MerkleTree tree = TreeOf(10);
  const std::string note = SignCheckpoint(*signer, At(tree, 10));
  std::vector<std::string> lines = absl::StrSplit(note, '\n');
  ASSERT_EQ(lines.size(), 6u) << note;
  EXPECT_EQ(lines[0], "shop.local/audit-log");
  EXPECT_EQ(lines[1], "10");
  EXPECT_EQ(lines[3], "");
  EXPECT_EQ(lines[4].rfind("\xe2\x80\x94 shop.local/audit-log ", 0), 0u) << lines[4];
  EXPECT_EQ(lines[5], "");
  auto opened = OpenCheckpoint(signer->public_key_pem(), note);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->tree_size, 10u);
  EXPECT_EQ(opened->root, tree.Root());
}

TEST(CheckpointTest, AnEditedOrForeignNoteDoesNotOpen) {
  auto signer = NewSigner();
  auto other = NewSigner();
  MerkleTree tree = TreeOf(10);
  const std::string note = SignCheckpoint(*signer, At(tree, 10));
  std::string bigger = note;
  bigger.replace(bigger.find("\n10\n"), 4, "\n11\n");
  EXPECT_EQ(OpenCheckpoint(signer->public_key_pem(), bigger).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(OpenCheckpoint(other->public_key_pem(), note).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(OpenCheckpoint(signer->public_key_pem(), SignCheckpoint(*other, At(tree, 10)))
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  for (const char* garbage : {"", "shop.local/audit-log\n10\n", "other/log\n1\nAAAA\n\n",
                              "shop.local/audit-log\n010\nAAAA\n\n"}) {
    EXPECT_EQ(OpenCheckpoint(signer->public_key_pem(), garbage).status().code(),
              absl::StatusCode::kInvalidArgument)
        << garbage;
  }
}

// Security review #11: the owner of the database deletes the last records
// together with the tree heads that cover them; the log then verifies. The
// checkpoint an auditor kept refuses it.
TEST(CheckpointTest, ATruncatedTailIsRefusedAgainstTheKeptCheckpoint) {
  MerkleTree tree = TreeOf(10);
  const Checkpoint kept = At(tree, 10);
  MerkleTree truncated = TreeOf(7);
  absl::Status refused = CheckCheckpointFollows(kept, At(truncated, 7), {});
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(refused.message().find("truncated"), absl::string_view::npos);
}

TEST(CheckpointTest, ARewrittenHistoryIsRefusedEvenWhenItGrew) {
  MerkleTree tree = TreeOf(10);
  const Checkpoint kept = At(tree, 10);
  // Truncated to 7, then 5 other records appended: 12 records.
  MerkleTree rewritten = TreeOf(7);
  for (int i = 0; i < 5; ++i) rewritten.Append(LeafHash("forged " + std::to_string(i)));
  auto proof = rewritten.ConsistencyProof(10, 12);
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(CheckCheckpointFollows(kept, At(rewritten, 12), *proof).code(),
            absl::StatusCode::kDataLoss);
  // Same size, other root.
  EXPECT_EQ(CheckCheckpointFollows(kept, At(TreeOf(10, "x"), 10), {}).code(),
            absl::StatusCode::kDataLoss);
}

TEST(CheckpointTest, AnHonestlyGrownLogFollows) {
  MerkleTree tree = TreeOf(1000);
  for (uint64_t kept : {1u, 7u, 10u, 512u, 1000u}) {
    auto proof = tree.ConsistencyProof(kept, 1000);
    ASSERT_TRUE(proof.ok());
    EXPECT_TRUE(CheckCheckpointFollows(At(tree, kept), At(tree, 1000), *proof).ok()) << kept;
  }
}

}  // namespace
}  // namespace shop::logging
