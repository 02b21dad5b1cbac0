#include "services/logging/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/numeric/bits.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace shop::logging {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

[[noreturn]] void DieOpenSsl(const char* what) {
  // SHA-256 over memory cannot fail short of a broken OpenSSL installation;
  // a log that cannot hash must not keep accepting entries.
  std::fprintf(stderr, "merkle: %s failed\n", what);
  std::abort();
}

const EVP_MD* Sha256() {
  // Fetched once: the implicit fetch inside EVP_DigestInit costs a lookup per
  // hash, and the tree hashes ~200k times a second.
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (fetched == nullptr) DieOpenSsl("EVP_MD_fetch(SHA2-256)");
    return fetched;
  }();
  return md;
}

class DigestContext {
 public:
  DigestContext() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr) DieOpenSsl("EVP_MD_CTX_new");
  }
  ~DigestContext() { EVP_MD_CTX_free(ctx_); }
  DigestContext(const DigestContext&) = delete;
  DigestContext& operator=(const DigestContext&) = delete;
  EVP_MD_CTX* get() const { return ctx_; }

 private:
  EVP_MD_CTX* ctx_;
};

// SHA-256(prefix || a || b), with prefix omitted when absent.
Hash Digest(const uint8_t* prefix, const void* a, size_t a_len, const void* b, size_t b_len) {
  thread_local DigestContext context;
  EVP_MD_CTX* ctx = context.get();
  if (EVP_DigestInit_ex2(ctx, Sha256(), nullptr) != 1) DieOpenSsl("EVP_DigestInit_ex2");
  if (prefix != nullptr && EVP_DigestUpdate(ctx, prefix, 1) != 1) DieOpenSsl("EVP_DigestUpdate");
  if (a_len > 0 && EVP_DigestUpdate(ctx, a, a_len) != 1) DieOpenSsl("EVP_DigestUpdate");
  if (b_len > 0 && EVP_DigestUpdate(ctx, b, b_len) != 1) DieOpenSsl("EVP_DigestUpdate");
  Hash out;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size()) {
    DieOpenSsl("EVP_DigestFinal_ex");
  }
  return out;
}

// The largest power of two strictly below n (n >= 2): where RFC 6962 splits
// a tree of n leaves into its left and right subtrees.
uint64_t SplitPoint(uint64_t n) { return uint64_t{1} << (absl::bit_width(n - 1) - 1); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status CheckTreeSize(uint64_t tree_size, uint64_t log_size) {
  if (tree_size > log_size) {
    return absl::OutOfRangeError(
        absl::StrCat("tree size ", tree_size, " exceeds the log size ", log_size));
  }
  return absl::OkStatus();
}

}  // namespace

Hash LeafHash(absl::string_view record) {
  return Digest(&kLeafPrefix, record.data(), record.size(), nullptr, 0);
}

Hash NodeHash(const Hash& left, const Hash& right) {
  return Digest(&kNodePrefix, left.data(), left.size(), right.data(), right.size());
}

Hash EmptyTreeRoot() {
  static const Hash empty = Digest(nullptr, nullptr, 0, nullptr, 0);
  return empty;
}

std::string HashToHex(const Hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(hash.size() * 2, '0');
  for (size_t i = 0; i < hash.size(); ++i) {
    hex[2 * i] = kDigits[hash[i] >> 4];
    hex[2 * i + 1] = kDigits[hash[i] & 0x0f];
  }
  return hex;
}

std::optional<Hash> HashFromHex(absl::string_view hex) {
  Hash hash;
  if (hex.size() != hash.size() * 2) return std::nullopt;
  for (size_t i = 0; i < hash.size(); ++i) {
    int high = HexValue(hex[2 * i]);
    int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    hash[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return hash;
}

std::string HashToBytes(const Hash& hash) {
  return std::string(reinterpret_cast<const char*>(hash.data()), hash.size());
}

std::optional<Hash> HashFromBytes(absl::string_view bytes) {
  Hash hash;
  if (bytes.size() != hash.size()) return std::nullopt;
  std::memcpy(hash.data(), bytes.data(), hash.size());
  return hash;
}

void MerkleTree::Append(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  // Every level whose size became even has just completed a pair; each such
  // pair completes one subtree on the level above.
  for (size_t k = 0; levels_[k].size() % 2 == 0; ++k) {
    if (k + 1 == levels_.size()) levels_.emplace_back();
    const std::vector<Hash>& level = levels_[k];
    Hash parent = NodeHash(level[level.size() - 2], level.back());
    levels_[k + 1].push_back(parent);
  }
}

const Hash& MerkleTree::leaf(uint64_t i) const { return levels_[0][i]; }

SubtreeSource MerkleTree::Source() const {
  return
      [this](int level, uint64_t index) -> absl::StatusOr<Hash> { return levels_[level][index]; };
}

Hash MerkleTree::Root() const { return *RootFrom(Source(), size()); }

absl::StatusOr<Hash> MerkleTree::RootAt(uint64_t tree_size) const {
  SHOP_RETURN_IF_ERROR(CheckTreeSize(tree_size, size()));
  return RootFrom(Source(), tree_size);
}

absl::StatusOr<std::vector<Hash>> MerkleTree::InclusionProof(uint64_t leaf_index,
                                                             uint64_t tree_size) const {
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", leaf_index, " is not below the tree size ", tree_size));
  }
  SHOP_RETURN_IF_ERROR(CheckTreeSize(tree_size, size()));
  return InclusionProofFrom(Source(), leaf_index, tree_size);
}

absl::StatusOr<std::vector<Hash>> MerkleTree::ConsistencyProof(uint64_t old_size,
                                                               uint64_t new_size) const {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("old tree size ", old_size, " exceeds the new tree size ", new_size));
  }
  SHOP_RETURN_IF_ERROR(CheckTreeSize(new_size, size()));
  return ConsistencyProofFrom(Source(), old_size, new_size);
}

namespace {

// [begin, end) as complete subtrees (sizes from the bits of end - begin,
// largest first), combined right to left as the RFC does; begin must be a
// multiple of the largest.
absl::StatusOr<Hash> RangeFrom(const SubtreeSource& source, uint64_t begin, uint64_t end) {
  Hash parts[64];
  int count = 0;
  uint64_t pos = begin;
  for (int level = absl::bit_width(end - begin) - 1; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if (((end - begin) & width) == 0) continue;
    SHOP_ASSIGN_OR_RETURN(parts[count], source(level, pos >> level));
    ++count;
    pos += width;
  }
  Hash hash = parts[count - 1];
  for (int i = count - 2; i >= 0; --i) hash = NodeHash(parts[i], hash);
  return hash;
}

}  // namespace

absl::StatusOr<Hash> RootFrom(const SubtreeSource& source, uint64_t tree_size) {
  return tree_size == 0 ? EmptyTreeRoot() : RangeFrom(source, 0, tree_size);
}

absl::StatusOr<std::vector<Hash>> InclusionProofFrom(const SubtreeSource& source,
                                                     uint64_t leaf_index, uint64_t tree_size) {
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", leaf_index, " is not below the tree size ", tree_size));
  }
  std::vector<Hash> proof;
  uint64_t begin = 0;
  uint64_t end = tree_size;
  while (end - begin > 1) {
    const uint64_t mid = begin + SplitPoint(end - begin);
    if (leaf_index < mid) {
      SHOP_ASSIGN_OR_RETURN(proof.emplace_back(), RangeFrom(source, mid, end));
      end = mid;
    } else {
      SHOP_ASSIGN_OR_RETURN(proof.emplace_back(), RangeFrom(source, begin, mid));
      begin = mid;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<std::vector<Hash>> ConsistencyProofFrom(const SubtreeSource& source,
                                                       uint64_t old_size, uint64_t new_size) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("old tree size ", old_size, " exceeds the new tree size ", new_size));
  }
  std::vector<Hash> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  uint64_t begin = 0;
  uint64_t end = new_size;
  uint64_t m = old_size;
  bool old_root_is_known = true;
  while (m != end - begin) {
    const uint64_t k = SplitPoint(end - begin);
    if (m <= k) {
      SHOP_ASSIGN_OR_RETURN(proof.emplace_back(), RangeFrom(source, begin + k, end));
      end = begin + k;
    } else {
      SHOP_ASSIGN_OR_RETURN(proof.emplace_back(), RangeFrom(source, begin, begin + k));
      begin += k;
      m -= k;
      old_root_is_known = false;
    }
  }
  if (!old_root_is_known) {
    SHOP_ASSIGN_OR_RETURN(proof.emplace_back(), RangeFrom(source, begin, end));
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<MerkleFrontier> MerkleFrontier::Load(const SubtreeSource& source, uint64_t size) {
  MerkleFrontier frontier;
  uint64_t pos = 0;
  for (int level = absl::bit_width(size) - 1; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((size & width) == 0) continue;
    SHOP_ASSIGN_OR_RETURN(Hash hash, source(level, pos >> level));
    frontier.nodes_.emplace_back(level, hash);
    pos += width;
  }
  frontier.size_ = size;
  return frontier;
}

void MerkleFrontier::Append(const Hash& leaf_hash, int every_level, std::vector<Node>* completed) {
  nodes_.emplace_back(0, leaf_hash);
  ++size_;
  while (nodes_.size() >= 2 && nodes_[nodes_.size() - 2].first == nodes_.back().first) {
    const int level = nodes_.back().first + 1;
    Hash parent = NodeHash(nodes_[nodes_.size() - 2].second, nodes_.back().second);
    nodes_.pop_back();
    nodes_.back() = {level, parent};
    if (completed != nullptr && every_level > 0 && level % every_level == 0) {
      completed->push_back(Node{level, (size_ >> level) - 1, parent});
    }
  }
}

Hash MerkleFrontier::Root() const {
  if (nodes_.empty()) return EmptyTreeRoot();
  Hash hash = nodes_.back().second;
  for (size_t i = nodes_.size() - 1; i-- > 0;) hash = NodeHash(nodes_[i].second, hash);
  return hash;
}

bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                     const std::vector<Hash>& proof, const Hash& root) {
  if (index >= tree_size) return false;
  // Retrace the descent InclusionProof makes, recording per depth whether the
  // sibling is on the right, then fold the proof bottom-up.
  uint64_t sibling_on_right = 0;
  size_t depth = 0;
  uint64_t begin = 0;
  uint64_t end = tree_size;
  while (end - begin > 1) {
    const uint64_t mid = begin + SplitPoint(end - begin);
    if (index < mid) {
      sibling_on_right |= uint64_t{1} << depth;
      end = mid;
    } else {
      begin = mid;
    }
    ++depth;
  }
  if (proof.size() != depth) return false;
  Hash hash = leaf_hash;
  for (size_t i = 0; i < depth; ++i) {
    const bool right = (sibling_on_right >> (depth - 1 - i)) & 1;
    hash = right ? NodeHash(hash, proof[i]) : NodeHash(proof[i], hash);
  }
  return hash == root;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, const std::vector<Hash>& proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) {
    return proof.empty() && old_root == new_root && (old_size != 0 || old_root == EmptyTreeRoot());
  }
  if (old_size == 0) return proof.empty() && old_root == EmptyTreeRoot();

  // Retrace ConsistencyProof's descent. A step into the left subtree has a
  // sibling that only the new tree contains; a step into the right subtree
  // has a (complete) left sibling that both trees share.
  uint64_t went_left = 0;
  size_t depth = 0;
  uint64_t begin = 0;
  uint64_t end = new_size;
  uint64_t m = old_size;
  bool old_root_is_known = true;
  while (m != end - begin) {
    const uint64_t k = SplitPoint(end - begin);
    if (m <= k) {
      went_left |= uint64_t{1} << depth;
      end = begin + k;
    } else {
      begin += k;
      m -= k;
      old_root_is_known = false;
    }
    ++depth;
  }
  if (proof.size() != depth + (old_root_is_known ? 0 : 1)) return false;

  // The node where the descent stopped is a subtree of both trees: the old
  // root itself, or else the first proof element.
  size_t next = 0;
  Hash old_hash = old_root_is_known ? old_root : proof[next++];
  Hash new_hash = old_hash;
  for (size_t step = depth; step-- > 0;) {
    const Hash& sibling = proof[next++];
    if ((went_left >> step) & 1) {
      new_hash = NodeHash(new_hash, sibling);
    } else {
      old_hash = NodeHash(sibling, old_hash);
      new_hash = NodeHash(sibling, new_hash);
    }
  }
  return old_hash == old_root && new_hash == new_root;
}

}  // namespace shop::logging
