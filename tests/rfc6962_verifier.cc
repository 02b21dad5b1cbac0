#include "tests/rfc6962_verifier.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <utility>

namespace shop::testing {
namespace {

constexpr size_t kHashSize = 32;

std::string Sha256Of(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  if (SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out) == nullptr) {
    std::abort();  // A test helper that cannot hash has nothing useful to say.
  }
  return std::string(reinterpret_cast<const char*>(out), sizeof(out));
}

bool Lsb(uint64_t x) { return (x & 1) != 0; }

bool AllHashSized(const std::vector<std::string>& hashes) {
  for (const std::string& h : hashes) {
    if (h.size() != kHashSize) return false;
  }
  return true;
}

}  // namespace

std::string Rfc6962LeafHash(std::string_view record) {
  std::string input(1, '\x00');
  input.append(record);
  return Sha256Of(input);
}

std::string Rfc6962NodeHash(std::string_view left, std::string_view right) {
  std::string input(1, '\x01');
  input.append(left);
  input.append(right);
  return Sha256Of(input);
}

std::string Rfc6962RootFromLeafHashes(const std::vector<std::string>& leaf_hashes) {
  if (leaf_hashes.empty()) return Sha256Of("");
  // A stack of (subtree size, hash) with strictly decreasing sizes; merging
  // equal neighbours as leaves arrive leaves one perfect subtree per set bit
  // of the leaf count, which MTH then joins from the right.
  std::vector<std::pair<uint64_t, std::string>> stack;
  for (const std::string& leaf : leaf_hashes) {
    stack.emplace_back(1, leaf);
    while (stack.size() >= 2 && stack[stack.size() - 2].first == stack.back().first) {
      std::pair<uint64_t, std::string> right = std::move(stack.back());
      stack.pop_back();
      stack.back().second = Rfc6962NodeHash(stack.back().second, right.second);
      stack.back().first *= 2;
    }
  }
  std::string root = stack.back().second;
  for (size_t i = stack.size() - 1; i-- > 0;) root = Rfc6962NodeHash(stack[i].second, root);
  return root;
}

bool VerifyInclusionProof(std::string_view leaf_hash, uint64_t leaf_index, uint64_t tree_size,
                          const std::vector<std::string>& proof, std::string_view root) {
  if (leaf_hash.size() != kHashSize || root.size() != kHashSize || !AllHashSized(proof)) {
    return false;
  }
  if (leaf_index >= tree_size) return false;
  uint64_t fn = leaf_index;
  uint64_t sn = tree_size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0) return false;
    if (Lsb(fn) || fn == sn) {
      r = Rfc6962NodeHash(p, r);
      while (!Lsb(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = Rfc6962NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistencyProof(uint64_t old_size, uint64_t new_size, std::string_view old_root,
                            std::string_view new_root, const std::vector<std::string>& proof) {
  if (old_root.size() != kHashSize || new_root.size() != kHashSize || !AllHashSized(proof)) {
    return false;
  }
  const std::string empty_root = Sha256Of("");
  if (old_size > new_size) return false;
  if (old_size == new_size) {
    return proof.empty() && old_root == new_root && (old_size > 0 || old_root == empty_root);
  }
  if (old_size == 0) return proof.empty() && old_root == empty_root;

  // 0 < old_size < new_size: the RFC's algorithm.
  if (proof.empty()) return false;
  std::vector<std::string> path;
  const bool old_is_power_of_two = (old_size & (old_size - 1)) == 0;
  if (old_is_power_of_two) path.emplace_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());

  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while (Lsb(fn)) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0];
  std::string sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) return false;
    if (Lsb(fn) || fn == sn) {
      fr = Rfc6962NodeHash(c, fr);
      sr = Rfc6962NodeHash(c, sr);
      while (!Lsb(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = Rfc6962NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

std::string ShopmeshTreeHeadMessage(uint64_t tree_size, std::string_view root32,
                                    int64_t timestamp_ms) {
  std::string message = "shopmesh-tree-head-v1";
  message.push_back('\0');
  const uint64_t timestamp_bits = static_cast<uint64_t>(timestamp_ms);
  for (int byte = 7; byte >= 0; --byte) {
    message.push_back(static_cast<char>((tree_size >> (8 * byte)) & 0xff));
  }
  for (int byte = 7; byte >= 0; --byte) {
    message.push_back(static_cast<char>((timestamp_bits >> (8 * byte)) & 0xff));
  }
  message.append(root32);
  return message;
}

bool VerifySignedTreeHead(std::string_view public_key_pem, uint64_t tree_size,
                          std::string_view root32, int64_t timestamp_ms,
                          std::string_view signature) {
  if (root32.size() != kHashSize || signature.size() != 64) return false;
  BIO* bio = BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size()));
  if (bio == nullptr) return false;
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  bool ok = false;
  if (key != nullptr && EVP_PKEY_get_id(key) == EVP_PKEY_ED25519) {
    const std::string message = ShopmeshTreeHeadMessage(tree_size, root32, timestamp_ms);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
         EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
    EVP_MD_CTX_free(ctx);
  }
  EVP_PKEY_free(key);
  ERR_clear_error();
  return ok;
}

}  // namespace shop::testing
