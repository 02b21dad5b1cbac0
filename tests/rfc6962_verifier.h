// An independent checker for what the audit log (services/logging) hands
// out: RFC 6962 / RFC 9162 Merkle proofs and shopmesh signed tree heads.
// Written from the RFCs and the layout documented in
// services/logging/tree_head.h, sharing no code with the log, so that one bug
// cannot make both sides agree. Hashes are 32-byte std::strings; anything of
// another length never verifies.
#ifndef SHOP_TESTS_RFC6962_VERIFIER_H_
#define SHOP_TESTS_RFC6962_VERIFIER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shop::testing {

// SHA-256(0x00 || record).
std::string Rfc6962LeafHash(std::string_view record);
// SHA-256(0x01 || left || right).
std::string Rfc6962NodeHash(std::string_view left, std::string_view right);
// MTH over the given leaf hashes (SHA-256("") for none): recomputes a log's
// root from all of its records.
std::string Rfc6962RootFromLeafHashes(const std::vector<std::string>& leaf_hashes);

// RFC 9162 section 2.1.3.2: `proof` shows `leaf_hash` at `leaf_index` in the
// tree of `tree_size` leaves with root `root`.
bool VerifyInclusionProof(std::string_view leaf_hash, uint64_t leaf_index, uint64_t tree_size,
                          const std::vector<std::string>& proof, std::string_view root);

// RFC 9162 section 2.1.4.2: the tree (old_size, old_root) is a prefix of the
// tree (new_size, new_root). The cases the RFC leaves out take an empty
// proof: equal sizes hold iff the roots are equal, old_size 0 iff old_root is
// SHA-256("").
bool VerifyConsistencyProof(uint64_t old_size, uint64_t new_size, std::string_view old_root,
                            std::string_view new_root, const std::vector<std::string>& proof);

// The 70 bytes a shopmesh tree head signature covers: "shopmesh-tree-head-v1"
// and a NUL, the size and the timestamp as 8-byte big-endian integers, the
// 32-byte root.
std::string ShopmeshTreeHeadMessage(uint64_t tree_size, std::string_view root32,
                                    int64_t timestamp_ms);

// The Ed25519 `signature` (64 bytes) over that message verifies under the PEM
// SubjectPublicKeyInfo `public_key_pem`, which must be an Ed25519 key.
bool VerifySignedTreeHead(std::string_view public_key_pem, uint64_t tree_size,
                          std::string_view root32, int64_t timestamp_ms,
                          std::string_view signature);

}  // namespace shop::testing

#endif  // SHOP_TESTS_RFC6962_VERIFIER_H_
