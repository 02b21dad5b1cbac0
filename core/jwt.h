// End-user JWTs: verification of compact-JWS tokens (RS256, ES256) against a
// JWKS, the JWKS file that rotates without a restart, and minting of dev
// tokens (shopctl token, tests).
#ifndef SHOP_CORE_JWT_H_
#define SHOP_CORE_JWT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "shop/v1/error_reason.pb.h"

namespace shop {

// The google.rpc.ErrorInfo reason (core/status.h, shop.v1.ErrorReason) of each way VerifyJwt
// refuses a token. The status code is always UNAUTHENTICATED and the message
// never echoes token contents beyond a short printable `alg`.
inline constexpr shop::v1::ErrorReason kJwtMalformed = shop::v1::MALFORMED_TOKEN;
inline constexpr shop::v1::ErrorReason kJwtUnsupportedAlg = shop::v1::UNSUPPORTED_ALG;
inline constexpr shop::v1::ErrorReason kJwtUnsupportedHeader =
    shop::v1::UNSUPPORTED_HEADER;  // `crit`
inline constexpr shop::v1::ErrorReason kJwtUnknownKey = shop::v1::UNKNOWN_KEY;
inline constexpr shop::v1::ErrorReason kJwtKeyAlgMismatch = shop::v1::KEY_ALG_MISMATCH;
inline constexpr shop::v1::ErrorReason kJwtBadSignature = shop::v1::BAD_SIGNATURE;
inline constexpr shop::v1::ErrorReason kJwtWrongIssuer = shop::v1::WRONG_ISSUER;
inline constexpr shop::v1::ErrorReason kJwtWrongAudience = shop::v1::WRONG_AUDIENCE;
inline constexpr shop::v1::ErrorReason kJwtExpired = shop::v1::TOKEN_EXPIRED;
inline constexpr shop::v1::ErrorReason kJwtNotYetValid = shop::v1::TOKEN_NOT_YET_VALID;
// Both carry ErrorInfo metadata {"claim": <name>}.
inline constexpr shop::v1::ErrorReason kJwtMissingClaim = shop::v1::MISSING_CLAIM;
inline constexpr shop::v1::ErrorReason kJwtInvalidClaim = shop::v1::INVALID_CLAIM;

// Tokens longer than this are refused unread (gRPC's default metadata limit
// is 8 KiB, so no legitimate caller gets near it).
inline constexpr size_t kMaxJwtBytes = size_t{16} * 1024;

// What a token must say to be accepted. Both `issuer` and `audience` are
// required; VerifyJwt answers FAILED_PRECONDITION if either is empty.
struct JwtPolicy {
  std::string issuer;
  std::string audience;
  // Tolerated clock difference with the issuer, applied to `exp` and `nbf`.
  absl::Duration clock_skew = absl::Seconds(60);
};

// The claims of a verified token.
struct JwtClaims {
  std::string subject;  // `sub`: 1..128 printable ASCII characters, no spaces
  // `roles`: a claim of ours (not registered in RFC 7519), an optional JSON
  // array of role names, each 1..128 printable ASCII characters without
  // spaces, e.g. "roles": ["customer", "support"]. Absent means no roles.
  std::vector<std::string> roles;
  std::string issuer;                            // `iss`, equal to JwtPolicy::issuer
  std::vector<std::string> audiences;            // `aud`, as a list even when a string
  absl::Time expires_at;                         // `exp`
  absl::Time not_before = absl::InfinitePast();  // `nbf`, InfinitePast if absent
  absl::Time issued_at = absl::InfinitePast();   // `iat`, InfinitePast if absent
  std::string token_id;                          // `jti`, empty if absent
  std::string key_id;                            // header `kid`
  std::string algorithm;                         // header `alg`: "RS256" or "ES256"

  bool HasRole(absl::string_view role) const;
};

// The signature-verification keys of one JWKS document (RFC 7517). Accepted
// keys: RSA (kty "RSA", n, e; a modulus of 2048..8192 bits and an exponent
// OpenSSL's public-key check accepts) for RS256, and EC P-256 (kty "EC",
// crv "P-256", x, y of 32 bytes, a point on the curve) for ES256. Every key
// needs a unique `kid`; `alg`, if present, must be the one of its type; `use`,
// if present, must be "sig"; `key_ops`, if present, must list "verify"; private
// members (`d`...) and duplicate JSON member names are refused. A key for
// something else (`use` "enc", `key_ops` without "verify", another kty, alg or
// curve), as identity providers publish beside their signing keys, is skipped
// and listed in skipped(); its key material is never read, but it must not
// carry private members or repeat another key's kid. A broken usable key (bad
// encoding, a point off the curve, a weak modulus, a missing kid, an alg that
// contradicts its kty or curve), a repeated kid, or a document with no usable
// key makes the whole document INVALID_ARGUMENT, naming the key by index and
// kid: a JWKS is configuration, and half-loading a broken one would hide a
// mistake. Immutable once parsed.
class JwksKeySet {
 public:
  static absl::StatusOr<std::shared_ptr<const JwksKeySet>> Parse(absl::string_view json);
  ~JwksKeySet();
  JwksKeySet(const JwksKeySet&) = delete;
  JwksKeySet& operator=(const JwksKeySet&) = delete;

  size_t size() const { return keys_.size(); }
  // The keys left out, each as `key <index> (kid "<kid>"): <why>`.
  const std::vector<std::string>& skipped() const { return skipped_; }
  bool Contains(absl::string_view kid) const;
  std::vector<std::string> KeyIds() const;

 private:
  struct Key;  // the OpenSSL key, in jwt.cc
  friend struct JwksKeySetAccess;
  JwksKeySet();
  std::map<std::string, std::unique_ptr<const Key>> keys_;
  std::vector<std::string> skipped_;
};

// A JwksKeySet read from a file and read again when the file changes, so keys
// rotate without a restart. keys() looks at the file (stat: inode, size,
// mtime) at most once per `check_interval`; the caller that happens to do so
// pays for the stat (and the parse, if the file changed) while every other
// caller gets the current set without waiting. A new file that cannot be read
// or parsed keeps the previous set, and is logged once. Thread-safe.
class JwksFile {
 public:
  // Fails if the file cannot be read or parsed now.
  static absl::StatusOr<std::unique_ptr<JwksFile>> Open(
      std::string path, absl::Duration check_interval = absl::Seconds(1));
  JwksFile(const JwksFile&) = delete;
  JwksFile& operator=(const JwksFile&) = delete;

  // The key set in force (never null).
  std::shared_ptr<const JwksKeySet> keys();
  // Reads and parses the file now, changed or not. On error the previous set
  // stays in force and the error (naming the file) is returned.
  absl::Status Reload();
  const std::string& path() const { return path_; }

 private:
  struct FileStamp {
    uint64_t device = 0;
    uint64_t inode = 0;
    int64_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp& other) const {
      return device == other.device && inode == other.inode && size == other.size &&
             mtime_ns == other.mtime_ns;
    }
  };
  JwksFile(std::string path, absl::Duration check_interval);
  // Loads the file if `force` or its stamp changed since the last load.
  absl::Status LoadLocked(bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  // Logs `error` (once per distinct message, and only when there is a
  // previous set to keep) and returns it.
  absl::Status KeepPreviousLocked(absl::Status error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);

  const std::string path_;
  const absl::Duration check_interval_;
  absl::Mutex load_mu_ ABSL_ACQUIRED_BEFORE(mu_);     // one loader at a time
  FileStamp stamp_ ABSL_GUARDED_BY(load_mu_);         // of the last file read
  std::string last_error_ ABSL_GUARDED_BY(load_mu_);  // to log each problem once
  absl::Mutex mu_;
  std::shared_ptr<const JwksKeySet> keys_ ABSL_GUARDED_BY(mu_);
  absl::Time next_check_ ABSL_GUARDED_BY(mu_);
};

// Verifies a compact-JWS JWT (RFC 7519 over RFC 7515) and returns its claims.
// The profile is deliberately narrow:
//  - three base64url parts without padding, whitespace or non-canonical
//    trailing bits, at most kMaxJwtBytes in all;
//  - header and payload: JSON objects without duplicate member names;
//  - header: `alg` exactly "RS256" or "ES256" (anything else, `none` and HS*
//    included, is UNSUPPORTED_ALG), a `kid` that names a key of `keys` whose
//    type is that of `alg` (the guard against algorithm confusion), and no
//    `crit`; `typ` is not checked. Keys offered by the token itself (jwk, jku,
//    x5c, x5u) are ignored: only `keys` is trusted;
//  - ES256 signatures are the 64-byte R||S form of RFC 7518 §3.4;
//  - the payload is read only after the signature checks out: `iss` equal to
//    policy.issuer, `aud` (string or array) containing policy.audience, `exp`
//    required with now < exp + skew, `nbf` if present with now >= nbf - skew,
//    `iat` optional, `sub` required (see JwtClaims), `roles` optional.
// Every refusal of a token is UNAUTHENTICATED with one of the kJwt* reasons;
// a policy without issuer or audience is FAILED_PRECONDITION.
absl::StatusOr<JwtClaims> VerifyJwt(absl::string_view token, const JwksKeySet& keys,
                                    const JwtPolicy& policy, absl::Time now);

// A private key that signs tokens: RSA (at least 2048 bits; RS256) or EC P-256
// (ES256), from PEM (PKCS#8 or traditional; encrypted keys are refused).
// Cheap to copy.
class JwtSigningKey {
 public:
  // `kid`: 1..128 printable ASCII characters without spaces.
  static absl::StatusOr<JwtSigningKey> FromPem(absl::string_view pem, std::string kid);
  static absl::StatusOr<JwtSigningKey> FromPemFile(const std::string& path, std::string kid);

  const std::string& kid() const { return kid_; }
  absl::string_view alg() const;  // "RS256" or "ES256"

 private:
  struct Key;  // the OpenSSL key, in jwt.cc
  friend struct JwtSigningKeyAccess;
  JwtSigningKey(std::shared_ptr<const Key> key, std::string kid);
  std::shared_ptr<const Key> key_;
  std::string kid_;
};

struct JwtMintRequest {
  std::string issuer;
  std::string audience;
  std::string subject;
  std::vector<std::string> roles;  // omitted from the token when empty
  absl::Time issued_at;
  std::optional<absl::Time> not_before;
  absl::Time expires_at;
};

// A signed token (header {"alg", "kid", "typ": "JWT"}) that VerifyJwt accepts
// with the key's JWKS. Times are written as whole seconds (rounded down).
// INVALID_ARGUMENT for a request VerifyJwt would refuse (empty issuer or
// audience, bad subject or role, expires_at not after issued_at...).
absl::StatusOr<std::string> MintJwt(const JwtSigningKey& key, const JwtMintRequest& request);

// The JWKS JSON text ({"keys": [...]}, with kid, alg and use "sig") that
// publishes the public half of `keys`, e.g. for scripts/dev-pki. Several keys
// make a rotation: the old and the new one side by side.
absl::StatusOr<std::string> JwksForPublicKeys(const std::vector<JwtSigningKey>& keys);
absl::StatusOr<std::string> JwksForPublicKey(const JwtSigningKey& key);

// Base64url (RFC 4648 §5) without padding, as JOSE uses it (RFC 7515 §2).
std::string Base64UrlEncode(absl::string_view data);
// Strict: only the URL-safe alphabet, no padding or whitespace, and the
// unused bits of the last character must be zero, so each byte string has
// exactly one encoding. nullopt if `text` is not such an encoding.
std::optional<std::string> Base64UrlDecode(absl::string_view text);

}  // namespace shop

#endif  // SHOP_CORE_JWT_H_
