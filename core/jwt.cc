#include "core/jwt.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <variant>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/log.h"
#include "core/status.h"
#include "core/validation.h"

namespace shop {
namespace {

using Json = nlohmann::json;

constexpr absl::string_view kRs256 = "RS256";
constexpr absl::string_view kEs256 = "ES256";
constexpr int kMinRsaBits = 2048;
// Verification cost grows with the modulus; nobody signs with more than this.
constexpr int kMaxRsaBits = 8192;
constexpr int kP256CoordinateBytes = 32;
// JWKS and PEM files are a few KiB; this only bounds a wrong path.
constexpr size_t kMaxFileBytes = size_t{1} << 20;

enum class KeyType { kRsa, kEc };

absl::string_view AlgOf(KeyType type) { return type == KeyType::kRsa ? kRs256 : kEs256; }

struct OpenSslFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
template <typename T>
using OsslPtr = std::unique_ptr<T, OpenSslFree>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(&s[0]); }

// The first queued OpenSSL error as text; empties the (per-thread) queue so
// that a later, unrelated failure is not reported with a stale reason.
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  std::string text = "unknown OpenSSL error";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    text = buf;
  }
  ERR_clear_error();
  return text;
}

std::string BigNumBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  if (!out.empty()) BN_bn2bin(bn, Bytes(out));
  return out;
}

// A small file's contents (`what` names it in errors) and its stat, taken
// from the same open file so the stat describes exactly what was read.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, absl::string_view what,
                                          struct stat& info) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", what, " ", path, ": ", std::strerror(errno)));
  }
  std::string text;
  absl::Status status;
  if (::fstat(fd, &info) != 0) {
    status = absl::UnavailableError(
        absl::StrCat("cannot stat ", what, " ", path, ": ", std::strerror(errno)));
  } else {
    char buf[16 * 1024];
    while (status.ok()) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = absl::UnavailableError(
            absl::StrCat("cannot read ", what, " ", path, ": ", std::strerror(errno)));
      } else if (n == 0) {
        break;
      } else if (text.size() + static_cast<size_t>(n) > kMaxFileBytes) {
        status = absl::InvalidArgumentError(
            absl::StrCat(what, " ", path, " is larger than ", kMaxFileBytes, " bytes"));
      } else {
        text.append(buf, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return text;
}

// --- Signatures -------------------------------------------------------------

// RFC 7518 §3.4: JOSE carries ECDSA P-256 signatures as R||S, 32 bytes each;
// OpenSSL speaks DER.
std::optional<std::string> JoseToDer(absl::string_view jose) {
  if (jose.size() != 2 * static_cast<size_t>(kP256CoordinateBytes)) return std::nullopt;
  OsslPtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(jose), kP256CoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(jose) + kP256CoordinateBytes, kP256CoordinateBytes, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(size), '\0');
  unsigned char* out = Bytes(der);
  if (i2d_ECDSA_SIG(sig.get(), &out) != size) return std::nullopt;
  return der;
}

absl::StatusOr<std::string> DerToJose(absl::string_view der) {
  const unsigned char* in = Bytes(der);
  OsslPtr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())));
  if (sig == nullptr) return absl::InternalError("OpenSSL returned an unreadable ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string jose(2 * static_cast<size_t>(kP256CoordinateBytes), '\0');
  if (BN_bn2binpad(r, Bytes(jose), kP256CoordinateBytes) != kP256CoordinateBytes ||
      BN_bn2binpad(s, Bytes(jose) + kP256CoordinateBytes, kP256CoordinateBytes) !=
          kP256CoordinateBytes) {
    return absl::InternalError("ECDSA signature does not fit P-256");
  }
  return jose;
}

// SHA-256 with PKCS#1 v1.5 (RS256) or ECDSA (ES256): the digest and padding
// are fixed here, never taken from the token.
bool VerifySignature(EVP_PKEY* pkey, KeyType type, absl::string_view signed_data,
                     absl::string_view jose_signature) {
  std::string der;
  absl::string_view signature = jose_signature;
  if (type == KeyType::kEc) {
    auto converted = JoseToDer(jose_signature);
    if (!converted.has_value()) return false;
    der = std::move(*converted);
    signature = der;
  } else if (jose_signature.size() != static_cast<size_t>(EVP_PKEY_get_size(pkey))) {
    return false;
  }
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // owned by ctx
  bool ok =
      ctx != nullptr &&
      EVP_DigestVerifyInit_ex(ctx.get(), &pkey_ctx, "SHA256", nullptr, nullptr, pkey, nullptr) ==
          1 &&
      (type != KeyType::kRsa || EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PADDING) > 0) &&
      EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(signed_data),
                       signed_data.size()) == 1;
  ERR_clear_error();
  return ok;
}

absl::StatusOr<std::string> Sign(EVP_PKEY* pkey, KeyType type, absl::string_view data) {
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // owned by ctx
  size_t size = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit_ex(ctx.get(), &pkey_ctx, "SHA256", nullptr, nullptr, pkey, nullptr) != 1 ||
      (type == KeyType::kRsa && EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PADDING) <= 0) ||
      EVP_DigestSign(ctx.get(), nullptr, &size, Bytes(data), data.size()) != 1) {
    return absl::InternalError(absl::StrCat("cannot sign token: ", OpenSslError()));
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), Bytes(signature), &size, Bytes(data), data.size()) != 1) {
    return absl::InternalError(absl::StrCat("cannot sign token: ", OpenSslError()));
  }
  signature.resize(size);
  if (type == KeyType::kEc) return DerToJose(signature);
  return signature;
}

// --- JWK → EVP_PKEY ----------------------------------------------------------

// A public key built from OSSL_PARAMs and passed through OpenSSL's public-key
// check (RSA: odd composite modulus without small factors, odd exponent above
// 1; EC: a point of the group's prime-order subgroup).
absl::StatusOr<OsslPtr<EVP_PKEY>> PublicKeyFromParams(const char* type, OSSL_PARAM_BLD* builder) {
  OsslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(builder));
  OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not a usable key (", OpenSslError(), ")"));
  }
  OsslPtr<EVP_PKEY> pkey(raw);
  OsslPtr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("fails OpenSSL's public key check (", OpenSslError(), ")"));
  }
  return pkey;
}

int BitLength(absl::string_view big_endian) {
  size_t first = big_endian.find_first_not_of('\0');
  if (first == absl::string_view::npos) return 0;
  int bits = static_cast<int>(big_endian.size() - first) * 8;
  for (unsigned char top = static_cast<unsigned char>(big_endian[first]); (top & 0x80) == 0;
       top <<= 1) {
    --bits;
  }
  return bits;
}

// The base64url member `name` of a JWK, decoded.
absl::StatusOr<std::string> JwkBytes(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is missing"));
  }
  auto bytes = Base64UrlDecode(it->get_ref<const std::string&>());
  if (!bytes.has_value() || bytes->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is not base64url"));
  }
  return *std::move(bytes);
}

absl::StatusOr<OsslPtr<EVP_PKEY>> RsaKeyFromJwk(const Json& jwk) {
  SHOP_ASSIGN_OR_RETURN(std::string n, JwkBytes(jwk, "n"));
  SHOP_ASSIGN_OR_RETURN(std::string e, JwkBytes(jwk, "e"));
  int bits = BitLength(n);
  if (bits < kMinRsaBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("RSA modulus is ", bits, " bits; at least ", kMinRsaBits, " are required"));
  }
  if (bits > kMaxRsaBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("RSA modulus is ", bits, " bits; at most ", kMaxRsaBits, " are supported"));
  }
  if (e.size() > 8) return absl::InvalidArgumentError("RSA exponent is too large");
  OsslPtr<BIGNUM> bn_n(BN_bin2bn(Bytes(n), static_cast<int>(n.size()), nullptr));
  OsslPtr<BIGNUM> bn_e(BN_bin2bn(Bytes(e), static_cast<int>(e.size()), nullptr));
  OsslPtr<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (bn_n == nullptr || bn_e == nullptr || builder == nullptr ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return absl::InternalError(absl::StrCat("cannot build RSA key: ", OpenSslError()));
  }
  return PublicKeyFromParams("RSA", builder.get());
}

absl::StatusOr<OsslPtr<EVP_PKEY>> EcKeyFromJwk(const Json& jwk) {
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string()) {
    return absl::InvalidArgumentError("\"crv\" is missing");
  }
  if (*crv != "P-256") {
    return absl::UnimplementedError(absl::StrCat(
        "unsupported curve \"", crv->get_ref<const std::string&>(), "\" (only P-256)"));
  }
  SHOP_ASSIGN_OR_RETURN(std::string x, JwkBytes(jwk, "x"));
  SHOP_ASSIGN_OR_RETURN(std::string y, JwkBytes(jwk, "y"));
  if (x.size() != static_cast<size_t>(kP256CoordinateBytes) ||
      y.size() != static_cast<size_t>(kP256CoordinateBytes)) {
    return absl::InvalidArgumentError("\"x\" and \"y\" must be 32 bytes each");
  }
  std::string point = absl::StrCat("\x04", x, y);  // SEC 1 uncompressed form
  OsslPtr<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      SN_X9_62_prime256v1, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return absl::InternalError(absl::StrCat("cannot build EC key: ", OpenSslError()));
  }
  return PublicKeyFromParams("EC", builder.get());
}

// One JWK without its kid (checked by the caller). UNIMPLEMENTED: a well-formed
// key that is not for verifying RS256 or ES256 signatures (an encryption key,
// another algorithm or curve), which the caller skips; INVALID_ARGUMENT: a
// malformed or dangerous one.
absl::StatusOr<std::pair<KeyType, OsslPtr<EVP_PKEY>>> KeyFromJwk(const Json& jwk) {
  // A JWKS is published; a private member in it means a private key leaked.
  for (const char* name : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (jwk.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat("contains private key material (\"", name,
                                                     "\"); publish only the public key"));
    }
  }
  if (auto use = jwk.find("use"); use != jwk.end()) {
    if (!use->is_string()) return absl::InvalidArgumentError("\"use\" is not a string");
    if (*use != "sig") {
      return absl::UnimplementedError(
          absl::StrCat("\"use\" is \"", use->get_ref<const std::string&>(), "\", not \"sig\""));
    }
  }
  if (auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    if (!ops->is_array()) return absl::InvalidArgumentError("\"key_ops\" is not an array");
    if (std::find(ops->begin(), ops->end(), Json("verify")) == ops->end()) {
      return absl::UnimplementedError("\"key_ops\" does not include \"verify\"");
    }
  }
  auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string())
    return absl::InvalidArgumentError("\"kty\" is missing");
  KeyType type;
  if (*kty == "RSA") {
    type = KeyType::kRsa;
  } else if (*kty == "EC") {
    type = KeyType::kEc;
  } else {
    return absl::UnimplementedError(absl::StrCat(
        "unsupported kty \"", kty->get_ref<const std::string&>(), "\" (RSA or EC expected)"));
  }
  if (auto alg = jwk.find("alg"); alg != jwk.end()) {
    if (!alg->is_string()) return absl::InvalidArgumentError("\"alg\" is not a string");
    const std::string& name = alg->get_ref<const std::string&>();
    if (name != AlgOf(KeyType::kRsa) && name != AlgOf(KeyType::kEc)) {
      return absl::UnimplementedError(absl::StrCat("unsupported alg \"", name, "\""));
    }
    if (name != AlgOf(type)) {  // RS256 on an EC key, say: a broken document
      return absl::InvalidArgumentError(absl::StrCat("\"alg\" must be ", AlgOf(type), " for kty ",
                                                     kty->get_ref<const std::string&>()));
    }
    if (auto crv = jwk.find("crv"); type == KeyType::kEc && crv != jwk.end() && *crv != "P-256") {
      return absl::InvalidArgumentError("\"alg\" ES256 needs crv P-256");
    }
  }
  SHOP_ASSIGN_OR_RETURN(OsslPtr<EVP_PKEY> pkey,
                        type == KeyType::kRsa ? RsaKeyFromJwk(jwk) : EcKeyFromJwk(jwk));
  return std::make_pair(type, std::move(pkey));
}

// --- Token checks ------------------------------------------------------------

absl::Status Refuse(absl::string_view message, shop::v1::ErrorReason reason) {
  return ErrorWithReason(absl::StatusCode::kUnauthenticated, message, reason);
}

absl::Status Malformed(absl::string_view what) {
  return Refuse(absl::StrCat("malformed token: ", what), kJwtMalformed);
}

absl::Status MissingClaim(absl::string_view claim) {
  return ErrorWithReason(absl::StatusCode::kUnauthenticated,
                         absl::StrCat("token has no \"", claim, "\" claim"), kJwtMissingClaim,
                         {{"claim", std::string(claim)}});
}

absl::Status InvalidClaim(absl::string_view claim) {
  return ErrorWithReason(absl::StatusCode::kUnauthenticated,
                         absl::StrCat("token claim \"", claim, "\" is invalid"), kJwtInvalidClaim,
                         {{"claim", std::string(claim)}});
}

// `unsupported alg "HS256"`, quoting the token's alg only when it is short
// and plainly printable, so nothing odd reaches logs or clients.
absl::Status UnsupportedAlg(const std::string& alg) {
  bool plain = !alg.empty() && alg.size() <= 16 && std::all_of(alg.begin(), alg.end(), [](char c) {
    return c > ' ' && c <= '~' && c != '"' && c != '\\';
  });
  return Refuse(plain ? absl::StrCat("unsupported alg \"", alg, "\"") : "unsupported alg",
                kJwtUnsupportedAlg);
}

// RFC 7519 §2 NumericDate: seconds since the epoch, possibly fractional.
std::optional<absl::Time> NumericDate(const Json& value) {
  if (value.is_number_unsigned()) {
    uint64_t seconds = value.get<uint64_t>();
    if (seconds > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InfiniteFuture();
    }
    return absl::FromUnixSeconds(static_cast<int64_t>(seconds));
  }
  if (value.is_number_integer()) return absl::FromUnixSeconds(value.get<int64_t>());
  if (value.is_number_float()) {
    double seconds = value.get<double>();
    if (!std::isfinite(seconds)) return std::nullopt;
    return absl::UnixEpoch() + absl::Seconds(seconds);  // saturates
  }
  return std::nullopt;
}

enum class JsonError { kNotAnObject, kDuplicateName };

// A JSON object, refusing duplicate member names at any depth. RFC 7515 §5.2
// would allow keeping the last one, but then a proxy that reads the first
// and this code could disagree about the same token.
std::variant<Json, JsonError> ParseObject(absl::string_view text) {
  std::vector<std::set<std::string>> open_objects;
  bool duplicate = false;
  auto check_names = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::key && !open_objects.empty()) {
      duplicate |= !open_objects.back().insert(parsed.get<std::string>()).second;
    } else if (event == Json::parse_event_t::object_end && !open_objects.empty()) {
      open_objects.pop_back();
    }
    return true;
  };
  Json json = Json::parse(text.begin(), text.end(), check_names, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return JsonError::kNotAnObject;
  if (duplicate) return JsonError::kDuplicateName;
  return json;
}

const Json* Member(const Json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

// The claims of a payload whose signature has been verified.
absl::StatusOr<JwtClaims> CheckClaims(const Json& payload, const JwtPolicy& policy,
                                      absl::Time now) {
  JwtClaims claims;

  const Json* iss = Member(payload, "iss");
  if (iss == nullptr) return MissingClaim("iss");
  if (!iss->is_string()) return InvalidClaim("iss");
  if (*iss != policy.issuer) return Refuse("wrong issuer", kJwtWrongIssuer);
  claims.issuer = iss->get<std::string>();

  const Json* aud = Member(payload, "aud");
  if (aud == nullptr) return MissingClaim("aud");
  if (aud->is_string()) {
    claims.audiences.push_back(aud->get<std::string>());
  } else if (aud->is_array()) {
    for (const Json& item : *aud) {
      if (!item.is_string()) return InvalidClaim("aud");
      claims.audiences.push_back(item.get<std::string>());
    }
  } else {
    return InvalidClaim("aud");
  }
  if (std::find(claims.audiences.begin(), claims.audiences.end(), policy.audience) ==
      claims.audiences.end()) {
    return Refuse("wrong audience", kJwtWrongAudience);
  }

  const Json* exp = Member(payload, "exp");
  if (exp == nullptr) return MissingClaim("exp");
  std::optional<absl::Time> expires_at = NumericDate(*exp);
  if (!expires_at.has_value()) return InvalidClaim("exp");
  if (now >= *expires_at + policy.clock_skew) return Refuse("token expired", kJwtExpired);
  claims.expires_at = *expires_at;

  if (const Json* nbf = Member(payload, "nbf"); nbf != nullptr) {
    std::optional<absl::Time> not_before = NumericDate(*nbf);
    if (!not_before.has_value()) return InvalidClaim("nbf");
    if (now < *not_before - policy.clock_skew) {
      return Refuse("token not yet valid", kJwtNotYetValid);
    }
    claims.not_before = *not_before;
  }

  if (const Json* iat = Member(payload, "iat"); iat != nullptr) {
    std::optional<absl::Time> issued_at = NumericDate(*iat);
    if (!issued_at.has_value()) return InvalidClaim("iat");
    claims.issued_at = *issued_at;
  }

  const Json* sub = Member(payload, "sub");
  if (sub == nullptr) return MissingClaim("sub");
  if (!sub->is_string() || !IsValidId(sub->get_ref<const std::string&>())) {
    return InvalidClaim("sub");
  }
  claims.subject = sub->get<std::string>();

  if (const Json* roles = Member(payload, "roles"); roles != nullptr) {
    if (!roles->is_array()) return InvalidClaim("roles");
    for (const Json& role : *roles) {
      if (!role.is_string() || !IsValidId(role.get_ref<const std::string&>())) {
        return InvalidClaim("roles");
      }
      claims.roles.push_back(role.get<std::string>());
    }
  }

  if (const Json* jti = Member(payload, "jti"); jti != nullptr) {
    if (!jti->is_string()) return InvalidClaim("jti");
    claims.token_id = jti->get<std::string>();
  }
  return claims;
}

}  // namespace

// --- Base64url -----------------------------------------------------------------

std::string Base64UrlEncode(absl::string_view data) {
  return absl::WebSafeBase64Escape(data);  // URL-safe alphabet, no padding
}

std::optional<std::string> Base64UrlDecode(absl::string_view text) {
  // Abseil's decoder is lenient (padding, whitespace, non-zero leftover
  // bits); only the one canonical encoding of each byte string is accepted,
  // so a token cannot be re-encoded and still pass.
  std::string out;
  if (!absl::WebSafeBase64Unescape(text, &out) || absl::WebSafeBase64Escape(out) != text) {
    return std::nullopt;
  }
  return out;
}

// --- JwtClaims, JwksKeySet ---------------------------------------------------

bool JwtClaims::HasRole(absl::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

struct JwksKeySet::Key {
  KeyType type;
  OsslPtr<EVP_PKEY> pkey;
};

struct JwksKeySetAccess {
  static const JwksKeySet::Key* Find(const JwksKeySet& set, absl::string_view kid) {
    auto it = set.keys_.find(std::string(kid));
    return it == set.keys_.end() ? nullptr : it->second.get();
  }
};

JwksKeySet::JwksKeySet() = default;
JwksKeySet::~JwksKeySet() = default;

bool JwksKeySet::Contains(absl::string_view kid) const { return keys_.count(std::string(kid)) > 0; }

std::vector<std::string> JwksKeySet::KeyIds() const {
  std::vector<std::string> ids;
  for (const auto& [kid, key] : keys_) ids.push_back(kid);
  return ids;
}

absl::StatusOr<std::shared_ptr<const JwksKeySet>> JwksKeySet::Parse(absl::string_view text) {
  std::variant<Json, JsonError> parsed = ParseObject(text);
  if (const JsonError* error = std::get_if<JsonError>(&parsed)) {
    return absl::InvalidArgumentError(*error == JsonError::kDuplicateName
                                          ? "JWKS has duplicate member names"
                                          : "JWKS is not a JSON object");
  }
  const Json* keys = Member(std::get<Json>(parsed), "keys");
  if (keys == nullptr || !keys->is_array()) {
    return absl::InvalidArgumentError("JWKS has no \"keys\" array");
  }
  if (keys->empty()) return absl::InvalidArgumentError("JWKS has no keys");
  std::shared_ptr<JwksKeySet> set(new JwksKeySet);
  std::set<std::string> kids;  // unique across every key, skipped ones included
  for (size_t i = 0; i < keys->size(); ++i) {
    const Json& jwk = (*keys)[i];
    if (!jwk.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("JWKS key ", i, ": not a JSON object"));
    }
    const Json* kid = Member(jwk, "kid");
    const bool has_kid =
        kid != nullptr && kid->is_string() && !kid->get_ref<const std::string&>().empty();
    if (has_kid && !kids.insert(kid->get_ref<const std::string&>()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "JWKS key ", i, " (kid \"", kid->get_ref<const std::string&>(), "\"): duplicate kid"));
    }
    auto key = KeyFromJwk(jwk);
    if (key.status().code() == absl::StatusCode::kUnimplemented) {
      // Identity providers publish encryption keys and keys for other
      // algorithms beside their signing keys: not ours to use, not an error.
      set->skipped_.push_back(absl::StrCat(
          "key ", i,
          has_kid ? absl::StrCat(" (kid \"", kid->get_ref<const std::string&>(), "\")") : "", ": ",
          key.status().message()));
      continue;
    }
    if (!has_kid) {
      return absl::InvalidArgumentError(absl::StrCat("JWKS key ", i, ": \"kid\" is missing"));
    }
    const std::string& id = kid->get_ref<const std::string&>();
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWKS key ", i, " (kid \"", id, "\"): ", key.status().message()));
    }
    set->keys_.emplace(id, std::make_unique<Key>(Key{key->first, std::move(key->second)}));
  }
  if (set->keys_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWKS has no key for RS256 or ES256 signatures; skipped ",
                     absl::StrJoin(set->skipped_, "; ")));
  }
  return std::shared_ptr<const JwksKeySet>(std::move(set));
}

// --- JwksFile ------------------------------------------------------------------

JwksFile::JwksFile(std::string path, absl::Duration check_interval)
    : path_(std::move(path)), check_interval_(check_interval) {}

absl::StatusOr<std::unique_ptr<JwksFile>> JwksFile::Open(std::string path,
                                                         absl::Duration check_interval) {
  std::unique_ptr<JwksFile> file(new JwksFile(std::move(path), check_interval));
  absl::MutexLock lock(&file->load_mu_);
  SHOP_RETURN_IF_ERROR(file->LoadLocked(/*force=*/true));
  return file;
}

std::shared_ptr<const JwksKeySet> JwksFile::keys() {
  absl::Time now = absl::Now();
  bool check = false;
  {
    absl::MutexLock lock(&mu_);
    if (now >= next_check_) {
      next_check_ = now + check_interval_;
      check = true;
    }
  }
  // Skipped if a Reload() is running: it will install whatever it finds.
  if (check && load_mu_.TryLock()) {
    LoadLocked(/*force=*/false).IgnoreError();
    load_mu_.Unlock();
  }
  absl::MutexLock lock(&mu_);
  return keys_;
}

absl::Status JwksFile::Reload() {
  absl::MutexLock lock(&load_mu_);
  return LoadLocked(/*force=*/true);
}

absl::Status JwksFile::LoadLocked(bool force) {
  auto stamp_of = [](const struct stat& info) {
    FileStamp stamp;
    stamp.device = static_cast<uint64_t>(info.st_dev);
    stamp.inode = static_cast<uint64_t>(info.st_ino);
    stamp.size = static_cast<int64_t>(info.st_size);
    stamp.mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
    return stamp;
  };
  struct stat info;
  if (!force) {
    if (::stat(path_.c_str(), &info) != 0) {
      return KeepPreviousLocked(absl::NotFoundError(
          absl::StrCat("cannot stat JWKS file ", path_, ": ", std::strerror(errno))));
    }
    if (stamp_of(info) == stamp_) return absl::OkStatus();
  }
  auto text = ReadSmallFile(path_, "JWKS file", info);
  if (!text.ok()) return KeepPreviousLocked(text.status());
  // Recorded even if the parse fails, so a bad file is reported once rather
  // than on every check; the next write changes the stamp again.
  stamp_ = stamp_of(info);
  auto keys = JwksKeySet::Parse(*text);
  if (!keys.ok()) {
    return KeepPreviousLocked(
        absl::InvalidArgumentError(absl::StrCat(path_, ": ", keys.status().message())));
  }
  int count = static_cast<int>((*keys)->size());
  const std::string skipped = absl::StrJoin((*keys)->skipped(), "; ");
  {
    absl::MutexLock lock(&mu_);
    keys_ = *std::move(keys);
  }
  last_error_.clear();
  if (skipped.empty()) {
    log::Info("JWKS loaded", {{"file", path_}, {"keys", count}});
  } else {
    // Usually an identity provider's encryption keys; but a signing key with
    // a typo in its alg, crv or use lands here too, so say it loudly.
    log::Warn("JWKS loaded, some keys skipped",
              {{"file", path_}, {"keys", count}, {"skipped", skipped}});
  }
  return absl::OkStatus();
}

absl::Status JwksFile::KeepPreviousLocked(absl::Status error) {
  bool have_keys;
  {
    absl::MutexLock lock(&mu_);
    have_keys = keys_ != nullptr;
  }
  if (have_keys && error.message() != last_error_) {
    log::Error("JWKS not reloaded; keeping the previous keys",
               {{"file", path_}, {"error", std::string(error.message())}});
  }
  last_error_ = std::string(error.message());
  return error;
}

// --- VerifyJwt -----------------------------------------------------------------

namespace {

absl::StatusOr<JwtClaims> VerifyCompactJws(absl::string_view token, const JwksKeySet& keys,
                                           const JwtPolicy& policy, absl::Time now) {
  if (token.size() > kMaxJwtBytes) return Malformed("too large");
  size_t first_dot = token.find('.');
  size_t second_dot =
      first_dot == absl::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == absl::string_view::npos ||
      token.find('.', second_dot + 1) != absl::string_view::npos) {
    return Malformed("not three parts");
  }
  absl::string_view header_part = token.substr(0, first_dot);
  absl::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  absl::string_view signature_part = token.substr(second_dot + 1);

  std::optional<std::string> header_text = Base64UrlDecode(header_part);
  if (!header_text.has_value()) return Malformed("header is not base64url");
  std::variant<Json, JsonError> parsed_header = ParseObject(*header_text);
  if (const JsonError* error = std::get_if<JsonError>(&parsed_header)) {
    return Malformed(*error == JsonError::kDuplicateName ? "header has duplicate member names"
                                                         : "header is not a JSON object");
  }
  const Json* header = &std::get<Json>(parsed_header);

  const Json* alg = Member(*header, "alg");
  if (alg == nullptr || !alg->is_string()) return Malformed("header has no alg");
  const std::string& alg_name = alg->get_ref<const std::string&>();
  if (alg_name != kRs256 && alg_name != kEs256) return UnsupportedAlg(alg_name);
  // RFC 7515 §4.1.11: extensions we would have to understand; we know none.
  if (header->contains("crit")) return Refuse("unsupported critical header", kJwtUnsupportedHeader);
  const Json* kid = Member(*header, "kid");
  if (kid == nullptr || !kid->is_string() || kid->get_ref<const std::string&>().empty()) {
    return Malformed("header has no kid");
  }
  const auto* key = JwksKeySetAccess::Find(keys, kid->get_ref<const std::string&>());
  if (key == nullptr) return Refuse("unknown key id", kJwtUnknownKey);
  // The algorithm is the key's, never the token's choice: the header may only
  // agree with it.
  if (AlgOf(key->type) != alg_name) return Refuse("key does not match alg", kJwtKeyAlgMismatch);

  std::optional<std::string> signature = Base64UrlDecode(signature_part);
  if (!signature.has_value()) return Malformed("signature is not base64url");
  if (!VerifySignature(key->pkey.get(), key->type, token.substr(0, second_dot), *signature)) {
    return Refuse("bad signature", kJwtBadSignature);
  }

  std::optional<std::string> payload_text = Base64UrlDecode(payload_part);
  if (!payload_text.has_value()) return Malformed("payload is not base64url");
  std::variant<Json, JsonError> payload = ParseObject(*payload_text);
  if (const JsonError* error = std::get_if<JsonError>(&payload)) {
    return Malformed(*error == JsonError::kDuplicateName ? "payload has duplicate member names"
                                                         : "payload is not a JSON object");
  }
  SHOP_ASSIGN_OR_RETURN(JwtClaims claims, CheckClaims(std::get<Json>(payload), policy, now));
  claims.key_id = kid->get<std::string>();
  claims.algorithm = alg_name;
  return claims;
}

}  // namespace

absl::StatusOr<JwtClaims> VerifyJwt(absl::string_view token, const JwksKeySet& keys,
                                    const JwtPolicy& policy, absl::Time now) {
  if (policy.issuer.empty() || policy.audience.empty()) {
    return absl::FailedPreconditionError("JWT policy needs an issuer and an audience");
  }
  // Every JSON access above checks types first; this only keeps a slip there
  // from taking the process down on hostile input.
  try {
    return VerifyCompactJws(token, keys, policy, now);
  } catch (const nlohmann::json::exception&) {
    return Malformed("unreadable JSON");
  }
}

// --- Minting -----------------------------------------------------------------

struct JwtSigningKey::Key {
  KeyType type;
  OsslPtr<EVP_PKEY> pkey;
};

struct JwtSigningKeyAccess {
  static const JwtSigningKey::Key& Of(const JwtSigningKey& key) { return *key.key_; }
};

JwtSigningKey::JwtSigningKey(std::shared_ptr<const Key> key, std::string kid)
    : key_(std::move(key)), kid_(std::move(kid)) {}

absl::string_view JwtSigningKey::alg() const { return AlgOf(key_->type); }

namespace {

// Declining to prompt: without it OpenSSL asks for a pass phrase on the tty.
int NoPassphrase(char*, int, int, void*) { return -1; }

}  // namespace

absl::StatusOr<JwtSigningKey> JwtSigningKey::FromPem(absl::string_view pem, std::string kid) {
  if (!IsValidId(kid)) {
    return absl::InvalidArgumentError(
        "JWT key id must be 1..128 printable ASCII characters without spaces");
  }
  if (pem.empty()) return absl::InvalidArgumentError("JWT signing key PEM is empty");
  if (pem.size() > kMaxFileBytes)
    return absl::InvalidArgumentError("JWT signing key PEM is too large");
  OsslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  OsslPtr<EVP_PKEY> pkey(bio == nullptr
                             ? nullptr
                             : PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("no unencrypted private key in the PEM (", OpenSslError(), ")"));
  }
  KeyType type;
  if (EVP_PKEY_is_a(pkey.get(), "RSA")) {
    int bits = EVP_PKEY_get_bits(pkey.get());
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return absl::InvalidArgumentError(absl::StrCat("RSA key is ", bits, " bits; ", kMinRsaBits,
                                                     "..", kMaxRsaBits, " are supported"));
    }
    type = KeyType::kRsa;
  } else if (EVP_PKEY_is_a(pkey.get(), "EC")) {
    char group[64] = {};
    size_t length = 0;
    if (EVP_PKEY_get_group_name(pkey.get(), group, sizeof(group), &length) != 1 ||
        absl::string_view(group, length) != SN_X9_62_prime256v1) {
      ERR_clear_error();
      return absl::InvalidArgumentError("EC key is not on curve P-256");
    }
    type = KeyType::kEc;
  } else {
    return absl::InvalidArgumentError("JWT signing key must be RSA or EC P-256");
  }
  return JwtSigningKey(std::make_shared<const Key>(Key{type, std::move(pkey)}), std::move(kid));
}

absl::StatusOr<JwtSigningKey> JwtSigningKey::FromPemFile(const std::string& path, std::string kid) {
  struct stat info;
  SHOP_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path, "JWT signing key", info));
  auto key = FromPem(pem, std::move(kid));
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", key.status().message()));
  }
  return key;
}

absl::StatusOr<std::string> MintJwt(const JwtSigningKey& key, const JwtMintRequest& request) {
  FieldViolations violations;
  if (request.issuer.empty() || !IsValidUtf8(request.issuer)) {
    violations.Add("issuer", "must be non-empty UTF-8");
  }
  if (request.audience.empty() || !IsValidUtf8(request.audience)) {
    violations.Add("audience", "must be non-empty UTF-8");
  }
  if (!IsValidId(request.subject)) {
    violations.Add("subject", "must be 1..128 printable ASCII characters without spaces");
  }
  for (const std::string& role : request.roles) {
    if (!IsValidId(role)) {
      violations.Add("roles", "each must be 1..128 printable ASCII characters without spaces");
      break;
    }
  }
  int64_t issued_at = absl::ToUnixSeconds(request.issued_at);
  int64_t expires_at = absl::ToUnixSeconds(request.expires_at);
  bool finite =
      request.issued_at != absl::InfinitePast() && request.issued_at != absl::InfiniteFuture() &&
      request.expires_at != absl::InfinitePast() && request.expires_at != absl::InfiniteFuture();
  if (!finite || expires_at <= issued_at) {
    violations.Add("expires_at", "must be a time after issued_at");
  }
  if (request.not_before.has_value() && (*request.not_before == absl::InfinitePast() ||
                                         *request.not_before == absl::InfiniteFuture() ||
                                         absl::ToUnixSeconds(*request.not_before) >= expires_at)) {
    violations.Add("not_before", "must be a time before expires_at");
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus("invalid token request"));

  Json header = {{"alg", std::string(key.alg())}, {"kid", key.kid()}, {"typ", "JWT"}};
  Json payload = {{"iss", request.issuer},
                  {"aud", request.audience},
                  {"sub", request.subject},
                  {"iat", issued_at},
                  {"exp", expires_at}};
  if (request.not_before.has_value()) payload["nbf"] = absl::ToUnixSeconds(*request.not_before);
  if (!request.roles.empty()) payload["roles"] = request.roles;
  std::string signed_data =
      absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(payload.dump()));
  const auto& signer = JwtSigningKeyAccess::Of(key);
  SHOP_ASSIGN_OR_RETURN(std::string signature, Sign(signer.pkey.get(), signer.type, signed_data));
  return absl::StrCat(signed_data, ".", Base64UrlEncode(signature));
}

absl::StatusOr<std::string> JwksForPublicKeys(const std::vector<JwtSigningKey>& keys) {
  Json jwks = {{"keys", Json::array()}};
  std::set<std::string> kids;
  for (const JwtSigningKey& key : keys) {
    if (!kids.insert(key.kid()).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate kid \"", key.kid(), "\""));
    }
    const auto& signer = JwtSigningKeyAccess::Of(key);
    Json jwk = {{"kid", key.kid()}, {"use", "sig"}, {"alg", std::string(key.alg())}};
    bool rsa = signer.type == KeyType::kRsa;
    const char* first = rsa ? OSSL_PKEY_PARAM_RSA_N : OSSL_PKEY_PARAM_EC_PUB_X;
    const char* second = rsa ? OSSL_PKEY_PARAM_RSA_E : OSSL_PKEY_PARAM_EC_PUB_Y;
    BIGNUM* raw_first = nullptr;
    BIGNUM* raw_second = nullptr;
    int got_first = EVP_PKEY_get_bn_param(signer.pkey.get(), first, &raw_first);
    int got_second = EVP_PKEY_get_bn_param(signer.pkey.get(), second, &raw_second);
    OsslPtr<BIGNUM> a(raw_first);
    OsslPtr<BIGNUM> b(raw_second);
    if (got_first != 1 || got_second != 1) {
      return absl::InternalError(
          absl::StrCat("cannot read the public key of \"", key.kid(), "\": ", OpenSslError()));
    }
    if (rsa) {
      jwk["kty"] = "RSA";
      jwk["n"] = Base64UrlEncode(BigNumBytes(a.get()));
      jwk["e"] = Base64UrlEncode(BigNumBytes(b.get()));
    } else {
      std::string x(static_cast<size_t>(kP256CoordinateBytes), '\0');
      std::string y(static_cast<size_t>(kP256CoordinateBytes), '\0');
      if (BN_bn2binpad(a.get(), Bytes(x), kP256CoordinateBytes) != kP256CoordinateBytes ||
          BN_bn2binpad(b.get(), Bytes(y), kP256CoordinateBytes) != kP256CoordinateBytes) {
        return absl::InternalError("EC public key does not fit P-256");
      }
      jwk["kty"] = "EC";
      jwk["crv"] = "P-256";
      jwk["x"] = Base64UrlEncode(x);
      jwk["y"] = Base64UrlEncode(y);
    }
    jwks["keys"].push_back(std::move(jwk));
  }
  return jwks.dump(2);
}

absl::StatusOr<std::string> JwksForPublicKey(const JwtSigningKey& key) {
  return JwksForPublicKeys({key});
}

}  // namespace shop
