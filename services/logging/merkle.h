// The audit log's Merkle tree (RFC 6962 / RFC 9162 section 2.1): leaf and
// node hashing, an append-only in-memory tree that answers roots, inclusion
// proofs and consistency proofs for any past size, and their verification.
#ifndef SHOP_SERVICES_LOGGING_MERKLE_H_
#define SHOP_SERVICES_LOGGING_MERKLE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shop::logging {

// A SHA-256 digest.
using Hash = std::array<uint8_t, 32>;

// SHA-256(0x00 || record): the hash of one log entry.
Hash LeafHash(absl::string_view record);
// SHA-256(0x01 || left || right): the hash of an interior node.
Hash NodeHash(const Hash& left, const Hash& right);
// SHA-256(""): the root of the tree with no leaves.
Hash EmptyTreeRoot();

// 64 lowercase hex digits, and back (either case; nullopt unless exactly 64
// hex digits).
std::string HashToHex(const Hash& hash);
std::optional<Hash> HashFromHex(absl::string_view hex);
// The 32 raw bytes (for protobuf `bytes` fields), and back (nullopt unless
// exactly 32 bytes).
std::string HashToBytes(const Hash& hash);
std::optional<Hash> HashFromBytes(absl::string_view bytes);

// The hash of the complete, aligned subtree of 2^level leaves
// [index * 2^level, (index + 1) * 2^level), from wherever they are kept.
using SubtreeSource = std::function<absl::StatusOr<Hash>(int level, uint64_t index)>;

// An append-only Merkle tree over leaf hashes. Not thread-safe: the caller
// serializes every call.
//
// It stores the hash of every complete, aligned subtree: level k holds the
// hashes of the ranges [i * 2^k, (i + 1) * 2^k) for i < size() / 2^k, about
// 64 bytes per leaf in all. Append is amortized O(1) hashes; Root, RootAt and
// both proofs cost O(log n) hashes, because every node the RFC recursion
// visits is either such a stored subtree or lies on the right edge of the
// requested tree.
class MerkleTree {
 public:
  MerkleTree() = default;

  void Append(const Hash& leaf_hash);

  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  // Precondition: i < size().
  const Hash& leaf(uint64_t i) const;
  // The complete subtree [index * 2^level, (index + 1) * 2^level); the
  // precondition is that it is complete (within size()).
  const Hash& subtree(int level, uint64_t index) const { return levels_[level][index]; }

  // The root of the whole tree (EmptyTreeRoot() when empty).
  Hash Root() const;
  // The root of the tree made of the first `tree_size` leaves; OUT_OF_RANGE
  // when tree_size > size().
  absl::StatusOr<Hash> RootAt(uint64_t tree_size) const;

  // PATH(leaf_index, D[0:tree_size]) of RFC 6962 section 2.1.1: the sibling
  // hashes from the leaf up to the root. INVALID_ARGUMENT unless
  // leaf_index < tree_size; OUT_OF_RANGE when tree_size > size().
  absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t leaf_index, uint64_t tree_size) const;

  // PROOF(old_size, D[0:new_size]) of RFC 6962 section 2.1.2. Empty when
  // old_size is 0 or equals new_size. INVALID_ARGUMENT when
  // old_size > new_size; OUT_OF_RANGE when new_size > size().
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size) const;

 private:
  // Its complete subtrees, for the proof functions below.
  SubtreeSource Source() const;

  // levels_[k][i] = hash of the leaves [i * 2^k, (i + 1) * 2^k).
  std::vector<std::vector<Hash>> levels_;
};

// The same answers as MerkleTree's, for a tree of which only `source` knows
// the nodes (the audit log keeps them in storage, not in memory). Every node
// the RFC recursion visits is a complete subtree or the right edge of the
// requested tree, so each costs O(log n) calls to `source`.
absl::StatusOr<Hash> RootFrom(const SubtreeSource& source, uint64_t tree_size);
absl::StatusOr<std::vector<Hash>> InclusionProofFrom(const SubtreeSource& source,
                                                     uint64_t leaf_index, uint64_t tree_size);
absl::StatusOr<std::vector<Hash>> ConsistencyProofFrom(const SubtreeSource& source,
                                                       uint64_t old_size, uint64_t new_size);

// The right edge of an append-only tree: one complete subtree per set bit of
// its size (at most 64 hashes), which is all that appending and the current
// root need. Memory does not grow with the tree.
class MerkleFrontier {
 public:
  // A complete subtree finished by an append.
  struct Node {
    int level;
    uint64_t index;
    Hash hash;
  };

  MerkleFrontier() = default;
  // The frontier of a tree of `size` leaves whose complete subtrees `source`
  // knows (O(log n) calls).
  static absl::StatusOr<MerkleFrontier> Load(const SubtreeSource& source, uint64_t size);

  // Appends a leaf; every subtree it completes whose level is a multiple of
  // `every_level` (and > 0) is added to `*completed` (when given).
  void Append(const Hash& leaf_hash, int every_level = 0, std::vector<Node>* completed = nullptr);

  uint64_t size() const { return size_; }
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  // (level, hash), largest subtree first; levels strictly decrease.
  std::vector<std::pair<int, Hash>> nodes_;
};

// True iff `proof` shows that `leaf_hash` is leaf number `index` of the tree
// of `tree_size` leaves whose root is `root` (RFC 9162 section 2.1.3.2).
// False whenever index >= tree_size.
bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                     const std::vector<Hash>& proof, const Hash& root);

// True iff `proof` shows that the tree of `old_size` leaves with root
// `old_root` is a prefix of the tree of `new_size` leaves with root
// `new_root` (RFC 9162 section 2.1.4.2). The trivial cases need an empty
// proof: old_size == new_size holds iff the roots are equal, old_size == 0
// iff old_root is EmptyTreeRoot(). False whenever old_size > new_size.
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, const std::vector<Hash>& proof);

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_MERKLE_H_
