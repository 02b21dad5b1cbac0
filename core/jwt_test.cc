#include "core/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/status.h"
#include "google/rpc/error_details.pb.h"

namespace shop {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Json = nlohmann::json;

constexpr char kIssuer[] = "https://auth.shop.local";
constexpr char kAudience[] = "shop-ecp";
const absl::Time kNow = absl::FromUnixSeconds(1700000000);

// --- Test-side OpenSSL: keys, PEM, and a signer independent of jwt.cc --------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

PkeyPtr NewRsaKey(size_t bits) { return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits)); }
PkeyPtr NewEcKey(const char* curve) {
  return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}
PkeyPtr NewEd25519Key() { return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(size));
  BIO_free(bio);
  return text;
}

std::string PrivatePem(EVP_PKEY* key, const char* passphrase = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  const EVP_CIPHER* cipher = passphrase == nullptr ? nullptr : EVP_aes_256_cbc();
  PEM_write_bio_PrivateKey(bio, key, cipher, reinterpret_cast<const unsigned char*>(passphrase),
                           passphrase == nullptr ? 0 : static_cast<int>(strlen(passphrase)),
                           nullptr, nullptr);
  return BioText(bio);
}

std::string PublicPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  return BioText(bio);
}

std::string BnParam(EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1) << name;
  int size = pad_to > 0 ? pad_to : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(size), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(&out[0]), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

// A JWK built here, not by jwt.cc, so that keys jwt.cc refuses to produce
// (1024-bit RSA, P-384) can be offered to the parser.
Json RsaJwk(EVP_PKEY* key, const std::string& kid) {
  return {{"kty", "RSA"},
          {"kid", kid},
          {"n", Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_RSA_N))},
          {"e", Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_RSA_E))}};
}

Json EcJwk(EVP_PKEY* key, const std::string& kid, const std::string& crv = "P-256",
           int coordinate_bytes = 32) {
  return {{"kty", "EC"},
          {"kid", kid},
          {"crv", crv},
          {"x", Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, coordinate_bytes))},
          {"y", Base64UrlEncode(BnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, coordinate_bytes))}};
}

std::string Jwks(std::vector<Json> keys) { return Json{{"keys", keys}}.dump(); }

// SHA-256 signature in JOSE form: PKCS#1 v1.5 for RSA, R||S for EC.
std::string JoseSign(EVP_PKEY* key, absl::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t size = 0;
  EXPECT_EQ(EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, key, nullptr), 1);
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &size, in, data.size()), 1);
  std::string sig(size, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(&sig[0]), &size, in, data.size()),
            1);
  sig.resize(size);
  EVP_MD_CTX_free(ctx);
  if (!EVP_PKEY_is_a(key, "EC")) return sig;
  const unsigned char* der = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size()));
  std::string jose(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(&jose[0]), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(&jose[32]), 32);
  ECDSA_SIG_free(ecdsa);
  return jose;
}

std::string HmacSha256(absl::string_view secret, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t size = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof(out),
            &size);
  return std::string(reinterpret_cast<char*>(out), size);
}

std::string SigningInput(const Json& header, const Json& payload) {
  return absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(payload.dump()));
}

// A token signed by `key` whatever its header says.
std::string SignedToken(EVP_PKEY* key, const Json& header, const Json& payload) {
  std::string input = SigningInput(header, payload);
  return absl::StrCat(input, ".", Base64UrlEncode(JoseSign(key, input)));
}

// The three parts of a token.
std::vector<std::string> Parts(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) absl::StrAppend(&out, i ? "." : "", parts[i]);
  return out;
}

std::string WriteFile(const std::string& path, const std::string& text) {
  // Written aside and renamed into place, as a deployment would.
  std::string temp = path + ".tmp";
  std::ofstream(temp, std::ios::binary | std::ios::trunc) << text;
  EXPECT_EQ(std::rename(temp.c_str(), path.c_str()), 0);
  return path;
}

void ExpectRefused(const absl::StatusOr<JwtClaims>& result, absl::string_view message,
                   shop::v1::ErrorReason reason) {
  ASSERT_FALSE(result.ok()) << "accepted; expected: " << message;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated) << result.status();
  EXPECT_EQ(result.status().message(), message);
  EXPECT_EQ(ReasonOf(result.status()), reason) << result.status();
}

std::string ClaimOf(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  if (!GetDetail(status, info)) return "";
  auto it = info.metadata().find("claim");
  return it == info.metadata().end() ? "" : it->second;
}

// Keys shared by every test: RSA generation is too slow to repeat.
class JwtTestBase : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (rsa_ != nullptr) return;
    rsa_ = NewRsaKey(2048).release();
    ec_ = NewEcKey("P-256").release();
    other_rsa_ = NewRsaKey(2048).release();
    rsa_signer_ = new JwtSigningKey(*JwtSigningKey::FromPem(PrivatePem(rsa_), "rsa-1"));
    ec_signer_ = new JwtSigningKey(*JwtSigningKey::FromPem(PrivatePem(ec_), "ec-1"));
    auto jwks = JwksForPublicKeys({*rsa_signer_, *ec_signer_});
    ASSERT_TRUE(jwks.ok()) << jwks.status();
    jwks_text_ = new std::string(*jwks);
    auto keys = JwksKeySet::Parse(*jwks);
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = new std::shared_ptr<const JwksKeySet>(*keys);
  }

  static JwtPolicy Policy() { return {kIssuer, kAudience, absl::Seconds(60)}; }

  static JwtMintRequest Request() {
    JwtMintRequest request;
    request.issuer = kIssuer;
    request.audience = kAudience;
    request.subject = "cus_123";
    request.roles = {"customer"};
    request.issued_at = kNow - absl::Minutes(1);
    request.expires_at = kNow + absl::Minutes(10);
    return request;
  }

  static Json Header(absl::string_view alg, absl::string_view kid) {
    return {{"alg", std::string(alg)}, {"kid", std::string(kid)}, {"typ", "JWT"}};
  }

  static Json Payload() {
    return {{"iss", kIssuer},
            {"aud", kAudience},
            {"sub", "cus_123"},
            {"iat", absl::ToUnixSeconds(kNow) - 60},
            {"exp", absl::ToUnixSeconds(kNow) + 600}};
  }

  static std::string Mint(const JwtSigningKey& key, const JwtMintRequest& request) {
    auto token = MintJwt(key, request);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.value_or("");
  }

  static absl::StatusOr<JwtClaims> Verify(absl::string_view token, absl::Time now = kNow) {
    return VerifyJwt(token, **keys_, Policy(), now);
  }

  static inline EVP_PKEY* rsa_ = nullptr;
  static inline EVP_PKEY* ec_ = nullptr;
  static inline EVP_PKEY* other_rsa_ = nullptr;
  static inline JwtSigningKey* rsa_signer_ = nullptr;
  static inline JwtSigningKey* ec_signer_ = nullptr;
  static inline std::string* jwks_text_ = nullptr;
  static inline std::shared_ptr<const JwksKeySet>* keys_ = nullptr;
};

// --- Base64url ---------------------------------------------------------------

TEST(JwtBase64UrlTest, MatchesRfc4648AndRoundTrips) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");
  std::mt19937 rng(7);
  for (size_t size = 0; size < 100; ++size) {
    std::string data(size, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(data)), data);
  }
}

TEST(JwtBase64UrlTest, RejectsAnythingButTheCanonicalEncoding) {
  for (absl::string_view bad : {"Zg==", "Zg=", "Zm9v====", "Z", "Zm9vY", "Zh", "Zm9", "Zm+v",
                                "Zm/v", "Zm9v\n", " Zm9v", "Zm 9v", "Zm9v."}) {
    EXPECT_FALSE(Base64UrlDecode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(Base64UrlDecode(absl::string_view("Zm\0v", 4)).has_value());
}

// --- VerifyJwt: accepted tokens ----------------------------------------------

class JwtVerifyTest : public JwtTestBase {};

TEST_F(JwtVerifyTest, AcceptsRs256) {
  auto claims = Verify(Mint(*rsa_signer_, Request()));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "cus_123");
  EXPECT_EQ(claims->roles, std::vector<std::string>{"customer"});
  EXPECT_TRUE(claims->HasRole("customer"));
  EXPECT_FALSE(claims->HasRole("admin"));
  EXPECT_EQ(claims->issuer, kIssuer);
  EXPECT_EQ(claims->audiences, std::vector<std::string>{kAudience});
  EXPECT_EQ(claims->expires_at, kNow + absl::Minutes(10));
  EXPECT_EQ(claims->issued_at, kNow - absl::Minutes(1));
  EXPECT_EQ(claims->not_before, absl::InfinitePast());
  EXPECT_EQ(claims->key_id, "rsa-1");
  EXPECT_EQ(claims->algorithm, "RS256");
}

TEST_F(JwtVerifyTest, AcceptsEs256WithRawSignature) {
  std::string token = Mint(*ec_signer_, Request());
  EXPECT_EQ(Base64UrlDecode(Parts(token)[2])->size(), 64u);
  auto claims = Verify(token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->key_id, "ec-1");
  EXPECT_EQ(claims->algorithm, "ES256");
}

// Tokens signed by the test's own signer: the format is the RFC's, not just
// whatever MintJwt happens to write.
TEST_F(JwtVerifyTest, AcceptsTokensFromAnotherSigner) {
  Json payload = Payload();
  payload["exp"] = absl::ToUnixSeconds(kNow) + 600.5;  // NumericDate may be fractional
  payload["nbf"] = absl::ToUnixSeconds(kNow) - 10;
  payload["aud"] = {"other-service", kAudience};
  payload["jti"] = "tok_1";
  payload["roles"] = {"customer", "support"};
  payload["extra"] = {{"nested", true}};
  Json header = {{"alg", "ES256"}, {"kid", "ec-1"}};  // no typ: optional
  auto claims = Verify(SignedToken(ec_, header, payload));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->expires_at, kNow + absl::Milliseconds(600500));
  EXPECT_EQ(claims->not_before, kNow - absl::Seconds(10));
  EXPECT_EQ(claims->audiences, (std::vector<std::string>{"other-service", kAudience}));
  EXPECT_EQ(claims->token_id, "tok_1");
  EXPECT_TRUE(claims->HasRole("support"));
  EXPECT_TRUE(Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), Payload())).ok());
}

// --- VerifyJwt: time ---------------------------------------------------------

TEST_F(JwtVerifyTest, RefusesExpiredToken) {
  JwtMintRequest request = Request();
  request.issued_at = kNow - absl::Hours(1);
  request.expires_at = kNow - absl::Seconds(61);
  ExpectRefused(Verify(Mint(*rsa_signer_, request)), "token expired", kJwtExpired);
  // At exp + skew exactly the token is over.
  request.expires_at = kNow - absl::Seconds(60);
  ExpectRefused(Verify(Mint(*rsa_signer_, request)), "token expired", kJwtExpired);
}

TEST_F(JwtVerifyTest, RefusesTokenNotYetValid) {
  JwtMintRequest request = Request();
  request.not_before = kNow + absl::Seconds(61);
  ExpectRefused(Verify(Mint(*ec_signer_, request)), "token not yet valid", kJwtNotYetValid);
}

TEST_F(JwtVerifyTest, AcceptsWithinClockSkew) {
  JwtMintRequest request = Request();
  request.issued_at = kNow - absl::Hours(1);
  request.expires_at = kNow - absl::Seconds(59);
  EXPECT_TRUE(Verify(Mint(*rsa_signer_, request)).ok());
  request = Request();
  request.not_before = kNow + absl::Seconds(60);
  EXPECT_TRUE(Verify(Mint(*rsa_signer_, request)).ok());
  // A policy without skew is exact.
  JwtPolicy strict = Policy();
  strict.clock_skew = absl::ZeroDuration();
  EXPECT_FALSE(VerifyJwt(Mint(*rsa_signer_, request), **keys_, strict, kNow).ok());
  EXPECT_TRUE(
      VerifyJwt(Mint(*rsa_signer_, request), **keys_, strict, kNow + absl::Minutes(1)).ok());
}

// --- VerifyJwt: issuer, audience, claims -------------------------------------

TEST_F(JwtVerifyTest, RefusesWrongIssuer) {
  JwtMintRequest request = Request();
  request.issuer = "https://evil.example";
  ExpectRefused(Verify(Mint(*rsa_signer_, request)), "wrong issuer", kJwtWrongIssuer);
}

TEST_F(JwtVerifyTest, RefusesWrongAudience) {
  JwtMintRequest request = Request();
  request.audience = "shop-admin";
  ExpectRefused(Verify(Mint(*rsa_signer_, request)), "wrong audience", kJwtWrongAudience);
}

TEST_F(JwtVerifyTest, AudienceMayBeAnArray) {
  Json payload = Payload();
  payload["aud"] = {"a", kAudience, "b"};
  EXPECT_TRUE(Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), payload)).ok());
  payload["aud"] = {"a", "b"};
  ExpectRefused(Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), payload)), "wrong audience",
                kJwtWrongAudience);
  payload["aud"] = Json::array();
  ExpectRefused(Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), payload)), "wrong audience",
                kJwtWrongAudience);
  payload["aud"] = {kAudience, 7};
  ExpectRefused(Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), payload)),
                "token claim \"aud\" is invalid", kJwtInvalidClaim);
}

TEST_F(JwtVerifyTest, RefusesMissingClaims) {
  for (const char* claim : {"sub", "exp", "iss", "aud"}) {
    Json payload = Payload();
    payload.erase(claim);
    auto result = Verify(SignedToken(ec_, Header("ES256", "ec-1"), payload));
    ExpectRefused(result, absl::StrCat("token has no \"", claim, "\" claim"), kJwtMissingClaim);
    EXPECT_EQ(ClaimOf(result.status()), claim);
  }
}

TEST_F(JwtVerifyTest, RefusesInvalidClaims) {
  struct Case {
    const char* claim;
    Json value;
  };
  const std::vector<Case> cases = {
      {"sub", ""},
      {"sub", "has space"},
      {"sub", std::string(129, 'a')},
      {"sub", "caf\xc3\xa9"},
      {"sub", std::string("nul\0byte", 8)},
      {"sub", 42},
      {"exp", "tomorrow"},
      {"exp", true},
      {"exp", nullptr},
      {"nbf", "now"},
      {"iat", Json::array()},
      {"iss", 1},
      {"aud", Json::object()},
      {"roles", "admin"},
      {"roles", {"admin", 1}},
      {"roles", {"two words"}},
      {"jti", 5},
  };
  for (const Case& c : cases) {
    Json payload = Payload();
    payload[c.claim] = c.value;
    auto result = Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), payload));
    ExpectRefused(result, absl::StrCat("token claim \"", c.claim, "\" is invalid"),
                  kJwtInvalidClaim);
    EXPECT_EQ(ClaimOf(result.status()), c.claim) << c.value;
  }
  Json payload = Payload();
  payload["sub"] = std::string(128, 'a');
  EXPECT_TRUE(Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), payload)).ok());
}

TEST_F(JwtVerifyTest, ExtremeTimesDoNotOverflow) {
  Json payload = Payload();
  payload["exp"] = std::numeric_limits<uint64_t>::max();
  EXPECT_TRUE(Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), payload)).ok());
  payload["exp"] = 1e300;
  EXPECT_TRUE(Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), payload)).ok());
  payload["exp"] = std::numeric_limits<int64_t>::min();
  ExpectRefused(Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), payload)), "token expired",
                kJwtExpired);
  payload = Payload();
  payload["nbf"] = -1e300;
  EXPECT_TRUE(Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), payload)).ok());
  EXPECT_TRUE(
      Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), Payload()), absl::InfinitePast()).ok());
  ExpectRefused(
      Verify(SignedToken(rsa_, Header("RS256", "rsa-1"), Payload()), absl::InfiniteFuture()),
      "token expired", kJwtExpired);
}

TEST_F(JwtVerifyTest, PolicyNeedsIssuerAndAudience) {
  std::string token = Mint(*rsa_signer_, Request());
  for (const JwtPolicy& policy : {JwtPolicy{"", kAudience}, JwtPolicy{kIssuer, ""}}) {
    auto result = VerifyJwt(token, **keys_, policy, kNow);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  }
}

// --- VerifyJwt: signatures ---------------------------------------------------

TEST_F(JwtVerifyTest, RefusesFlippedSignatureByte) {
  for (const JwtSigningKey* signer : {rsa_signer_, ec_signer_}) {
    std::vector<std::string> parts = Parts(Mint(*signer, Request()));
    std::string signature = *Base64UrlDecode(parts[2]);
    for (size_t i : {size_t{0}, signature.size() / 2, signature.size() - 1}) {
      std::string flipped = signature;
      flipped[i] ^= 0x01;
      parts[2] = Base64UrlEncode(flipped);
      ExpectRefused(Verify(Join(parts)), "bad signature", kJwtBadSignature);
    }
  }
}

TEST_F(JwtVerifyTest, RefusesChangedPayload) {
  for (const JwtSigningKey* signer : {rsa_signer_, ec_signer_}) {
    std::vector<std::string> parts = Parts(Mint(*signer, Request()));
    std::string payload = *Base64UrlDecode(parts[1]);
    parts[1] = Base64UrlEncode(absl::StrReplaceAll(payload, {{"cus_123", "cus_124"}}));
    ExpectRefused(Verify(Join(parts)), "bad signature", kJwtBadSignature);
    // A byte flipped in the encoded payload, still valid base64url.
    parts = Parts(Mint(*signer, Request()));
    parts[1][5] = parts[1][5] == 'A' ? 'B' : 'A';
    ExpectRefused(Verify(Join(parts)), "bad signature", kJwtBadSignature);
  }
}

TEST_F(JwtVerifyTest, RefusesTokenSignedByAnotherKey) {
  ExpectRefused(Verify(SignedToken(other_rsa_, Header("RS256", "rsa-1"), Payload())),
                "bad signature", kJwtBadSignature);
  PkeyPtr other_ec = NewEcKey("P-256");
  ExpectRefused(Verify(SignedToken(other_ec.get(), Header("ES256", "ec-1"), Payload())),
                "bad signature", kJwtBadSignature);
}

TEST_F(JwtVerifyTest, RefusesSignaturesOfTheWrongSize) {
  std::vector<std::string> parts = Parts(Mint(*ec_signer_, Request()));
  std::string raw = *Base64UrlDecode(parts[2]);
  for (const std::string& sig :
       {raw.substr(0, 63), raw + '\0', std::string(1, '\0') + raw, std::string(), raw + raw}) {
    parts[2] = Base64UrlEncode(sig);
    ExpectRefused(Verify(Join(parts)), "bad signature", kJwtBadSignature);
  }
  // The DER form OpenSSL produces is not what JOSE sends.
  std::string input = SigningInput(Header("ES256", "ec-1"), Payload());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t size = 0;
  ASSERT_EQ(EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, ec_, nullptr), 1);
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  EVP_DigestSign(ctx, nullptr, &size, in, input.size());
  std::string der(size, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(&der[0]), &size, in, input.size());
  der.resize(size);
  EVP_MD_CTX_free(ctx);
  ExpectRefused(Verify(absl::StrCat(input, ".", Base64UrlEncode(der))), "bad signature",
                kJwtBadSignature);
  // R and S of zero, and of the group order's size filled with ones.
  for (char fill : {'\0', '\xff'}) {
    ExpectRefused(Verify(absl::StrCat(input, ".", Base64UrlEncode(std::string(64, fill)))),
                  "bad signature", kJwtBadSignature);
  }
  parts = Parts(Mint(*rsa_signer_, Request()));
  raw = *Base64UrlDecode(parts[2]);
  for (const std::string& sig : {raw.substr(1), std::string(1, '\0') + raw}) {
    parts[2] = Base64UrlEncode(sig);
    ExpectRefused(Verify(Join(parts)), "bad signature", kJwtBadSignature);
  }
}

// --- VerifyJwt: algorithm confusion ------------------------------------------

TEST_F(JwtVerifyTest, RefusesAlgNone) {
  std::string unsigned_input = SigningInput(Header("none", "rsa-1"), Payload());
  ExpectRefused(Verify(unsigned_input + "."), "unsupported alg \"none\"", kJwtUnsupportedAlg);
  ExpectRefused(Verify(unsigned_input), "malformed token: not three parts", kJwtMalformed);
  // Still refused with a signature that is valid for the bytes.
  std::string signed_none =
      absl::StrCat(unsigned_input, ".", Base64UrlEncode(JoseSign(rsa_, unsigned_input)));
  ExpectRefused(Verify(signed_none), "unsupported alg \"none\"", kJwtUnsupportedAlg);
  for (const char* alg : {"None", "NONE", "nOnE"}) {
    ExpectRefused(Verify(SigningInput(Header(alg, "rsa-1"), Payload()) + "."),
                  absl::StrCat("unsupported alg \"", alg, "\""), kJwtUnsupportedAlg);
  }
  Json no_kid = {{"alg", "none"}};
  ExpectRefused(Verify(SigningInput(no_kid, Payload()) + "."), "unsupported alg \"none\"",
                kJwtUnsupportedAlg);
}

// The classic confusion: a verifier that lets the token pick HMAC would use
// the public key it holds as the secret.
TEST_F(JwtVerifyTest, RefusesHmacSignedWithThePublicKey) {
  std::vector<std::string> secrets = {PublicPem(rsa_), BnParam(rsa_, OSSL_PKEY_PARAM_RSA_N),
                                      *jwks_text_};
  for (const char* alg : {"HS256", "HS384", "HS512"}) {
    for (const std::string& secret : secrets) {
      std::string input = SigningInput(Header(alg, "rsa-1"), Payload());
      std::string token = absl::StrCat(input, ".", Base64UrlEncode(HmacSha256(secret, input)));
      ExpectRefused(Verify(token), absl::StrCat("unsupported alg \"", alg, "\""),
                    kJwtUnsupportedAlg);
    }
  }
}

TEST_F(JwtVerifyTest, RefusesEveryOtherAlg) {
  for (const char* alg :
       {"PS256", "RS384", "RS512", "ES384", "ES512", "EdDSA", "rs256", "RS256 ", "ES256K", ""}) {
    auto result = Verify(SignedToken(rsa_, Header(alg, "rsa-1"), Payload()));
    EXPECT_EQ(ReasonOf(result.status()), kJwtUnsupportedAlg) << alg;
    EXPECT_THAT(std::string(result.status().message()), StartsWith("unsupported alg")) << alg;
  }
  // An alg that is not a string, or odd bytes in it, is not echoed.
  Json header = {{"alg", {"RS256"}}, {"kid", "rsa-1"}};
  ExpectRefused(Verify(SignedToken(rsa_, header, Payload())), "malformed token: header has no alg",
                kJwtMalformed);
  ExpectRefused(Verify(SignedToken(rsa_, Header("RS256\"x\n", "rsa-1"), Payload())),
                "unsupported alg", kJwtUnsupportedAlg);
  ExpectRefused(Verify(SignedToken(rsa_, Header(std::string(100, 'A'), "rsa-1"), Payload())),
                "unsupported alg", kJwtUnsupportedAlg);
}

TEST_F(JwtVerifyTest, RefusesKeyOfTheOtherType) {
  // A valid ES256 signature, but the kid names the RSA key.
  ExpectRefused(Verify(SignedToken(ec_, Header("ES256", "rsa-1"), Payload())),
                "key does not match alg", kJwtKeyAlgMismatch);
  ExpectRefused(Verify(SignedToken(rsa_, Header("RS256", "ec-1"), Payload())),
                "key does not match alg", kJwtKeyAlgMismatch);
}

TEST_F(JwtVerifyTest, RefusesUnknownOrMissingKid) {
  ExpectRefused(Verify(SignedToken(rsa_, Header("RS256", "rsa-2"), Payload())), "unknown key id",
                kJwtUnknownKey);
  Json header = {{"alg", "RS256"}};
  ExpectRefused(Verify(SignedToken(rsa_, header, Payload())), "malformed token: header has no kid",
                kJwtMalformed);
  header["kid"] = 1;
  ExpectRefused(Verify(SignedToken(rsa_, header, Payload())), "malformed token: header has no kid",
                kJwtMalformed);
  ExpectRefused(Verify(SignedToken(rsa_, Header("RS256", ""), Payload())),
                "malformed token: header has no kid", kJwtMalformed);
}

TEST_F(JwtVerifyTest, RefusesCriticalHeaders) {
  Json header = Header("RS256", "rsa-1");
  header["crit"] = {"exp"};
  header["exp"] = 1;
  ExpectRefused(Verify(SignedToken(rsa_, header, Payload())), "unsupported critical header",
                kJwtUnsupportedHeader);
  header["crit"] = Json::array();
  ExpectRefused(Verify(SignedToken(rsa_, header, Payload())), "unsupported critical header",
                kJwtUnsupportedHeader);
}

// Keys a token brings along (jwk, jku, x5c) are never used.
TEST_F(JwtVerifyTest, IgnoresKeysOfferedByTheToken) {
  PkeyPtr attacker = NewEcKey("P-256");
  Json header = Header("ES256", "ec-1");
  header["jwk"] = EcJwk(attacker.get(), "ec-1");
  header["jku"] = "https://evil.example/jwks.json";
  ExpectRefused(Verify(SignedToken(attacker.get(), header, Payload())), "bad signature",
                kJwtBadSignature);
}

// --- VerifyJwt: structure ----------------------------------------------------

TEST_F(JwtVerifyTest, RefusesMalformedTokens) {
  std::string good = Mint(*rsa_signer_, Request());
  std::vector<std::string> parts = Parts(good);
  auto with = [&](size_t index, const std::string& value) {
    std::vector<std::string> copy = parts;
    copy[index] = value;
    return Join(copy);
  };
  struct Case {
    std::string token;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"", "malformed token: not three parts"},
      {".", "malformed token: not three parts"},
      {"a.b", "malformed token: not three parts"},
      {good + ".", "malformed token: not three parts"},
      {good + "." + parts[2], "malformed token: not three parts"},
      {"..", "malformed token: header is not a JSON object"},
      {with(0, parts[0] + "="), "malformed token: header is not base64url"},
      {with(0, parts[0] + "=="), "malformed token: header is not base64url"},
      {with(0, " " + parts[0]), "malformed token: header is not base64url"},
      {with(0, "+" + parts[0].substr(1)), "malformed token: header is not base64url"},
      {with(0, "/" + parts[0].substr(1)), "malformed token: header is not base64url"},
      {with(0, Base64UrlEncode("not json")), "malformed token: header is not a JSON object"},
      {with(0, Base64UrlEncode("[\"RS256\"]")), "malformed token: header is not a JSON object"},
      {with(0, Base64UrlEncode("\"RS256\"")), "malformed token: header is not a JSON object"},
      {with(0, Base64UrlEncode("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"} x")),
       "malformed token: header is not a JSON object"},
      {with(0, Base64UrlEncode("{\"alg\":\"RS256\",\"kid\":\"rsa-\xff\"}")),
       "malformed token: header is not a JSON object"},
      {with(0, Base64UrlEncode(R"({"alg":"HS256","kid":"rsa-1","alg":"RS256"})")),
       "malformed token: header has duplicate member names"},
      {with(0, Base64UrlEncode(R"({"alg":"RS256","kid":"rsa-1","x":{"a":1,"a":2}})")),
       "malformed token: header has duplicate member names"},
      {with(0, Base64UrlEncode(R"({"alg":"RS256","kid":"rsa-1","x":[{"a":1},{"a":2}]})")),
       "bad signature"},
      {with(2, parts[2] + "="), "malformed token: signature is not base64url"},
      {with(2, parts[2] + "\n"), "malformed token: signature is not base64url"},
      {with(1, parts[1] + "="), "bad signature"},
      {good + std::string(kMaxJwtBytes, 'A'), "malformed token: too large"},
  };
  for (const Case& c : cases) {
    auto result = Verify(c.token);
    ASSERT_FALSE(result.ok()) << c.token;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(result.status().message(), c.message) << c.token;
  }
}

// The last character of a part may carry unused bits; were they ignored, a
// changed token would decode to the same signature and still pass.
TEST_F(JwtVerifyTest, RefusesNonCanonicalBase64) {
  for (const JwtSigningKey* signer : {rsa_signer_, ec_signer_}) {
    std::vector<std::string> parts = Parts(Mint(*signer, Request()));
    ASSERT_EQ(Base64UrlDecode(parts[2])->size() % 3, 1u);  // 4 unused bits at the end
    // The canonical last character is one of A, Q, g, w (low 4 bits zero);
    // the next one decodes to the same bytes.
    char& last = parts[2].back();
    ASSERT_NE(std::string("AQgw").find(last), std::string::npos);
    last = static_cast<char>(last + 1);
    ExpectRefused(Verify(Join(parts)), "malformed token: signature is not base64url",
                  kJwtMalformed);
  }
}

// A payload that is signed but is not a claims object.
TEST_F(JwtVerifyTest, RefusesSignedNonJsonPayload) {
  for (const std::string& payload : {std::string("not json"), std::string("[1,2]"), std::string(""),
                                     std::string("{\"sub\":\"\xc3\x28\"}")}) {
    std::string input = absl::StrCat(Base64UrlEncode(Header("RS256", "rsa-1").dump()), ".",
                                     Base64UrlEncode(payload));
    ExpectRefused(Verify(absl::StrCat(input, ".", Base64UrlEncode(JoseSign(rsa_, input)))),
                  "malformed token: payload is not a JSON object", kJwtMalformed);
  }
  // Which "sub" would a reader take? Neither.
  std::string payload = Payload().dump();
  payload.insert(1, R"("sub":"cus_admin",)");
  std::string input =
      absl::StrCat(Base64UrlEncode(Header("RS256", "rsa-1").dump()), ".", Base64UrlEncode(payload));
  ExpectRefused(Verify(absl::StrCat(input, ".", Base64UrlEncode(JoseSign(rsa_, input)))),
                "malformed token: payload has duplicate member names", kJwtMalformed);
}

TEST_F(JwtVerifyTest, SurvivesDeeplyNestedJson) {
  // As deep as the size limit allows.
  std::string deep = std::string(5500, '[') + std::string(5500, ']');
  auto result = Verify(absl::StrCat(Base64UrlEncode(deep), ".e30.AA"));
  ExpectRefused(result, "malformed token: header is not a JSON object", kJwtMalformed);
  std::string deep_object = "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x\":" + std::string(5000, '[') +
                            std::string(5000, ']') + "}";
  ExpectRefused(Verify(absl::StrCat(Base64UrlEncode(deep_object), ".e30.AA")), "bad signature",
                kJwtBadSignature);
}

// --- JWKS --------------------------------------------------------------------

class JwtJwksTest : public JwtTestBase {};

TEST_F(JwtJwksTest, ParsesRsaAndEcKeys) {
  EXPECT_EQ((*keys_)->size(), 2u);
  EXPECT_TRUE((*keys_)->Contains("rsa-1"));
  EXPECT_TRUE((*keys_)->Contains("ec-1"));
  EXPECT_FALSE((*keys_)->Contains("rsa-2"));
  EXPECT_EQ((*keys_)->KeyIds(), (std::vector<std::string>{"ec-1", "rsa-1"}));
  Json jwks = Json::parse(*jwks_text_);
  EXPECT_EQ(jwks["keys"][0]["kty"], "RSA");
  EXPECT_EQ(jwks["keys"][0]["alg"], "RS256");
  EXPECT_EQ(jwks["keys"][0]["use"], "sig");
  EXPECT_EQ(jwks["keys"][0]["e"], "AQAB");
  EXPECT_EQ(jwks["keys"][1]["crv"], "P-256");
  EXPECT_EQ(jwks["keys"][1]["alg"], "ES256");
  EXPECT_FALSE(jwks["keys"][1].contains("d"));
}

TEST_F(JwtJwksTest, AcceptsOptionalMembersAndLeadingZeroModulus) {
  Json rsa = RsaJwk(rsa_, "r");
  rsa["n"] = Base64UrlEncode(std::string(1, '\0') + BnParam(rsa_, OSSL_PKEY_PARAM_RSA_N));
  rsa["use"] = "sig";
  rsa["key_ops"] = {"verify"};
  rsa["x5t"] = "ignored";
  Json ec = EcJwk(ec_, "e");
  ec["alg"] = "ES256";
  auto keys = JwksKeySet::Parse(Jwks({rsa, ec}));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ((*keys)->size(), 2u);
}

TEST_F(JwtJwksTest, SkipsKeysForOtherUsesAndAlgorithms) {
  // What an identity provider publishes: its signing key, an encryption key
  // (RSA-OAEP), a key for ES384, an Ed25519 key.
  PkeyPtr p384 = NewEcKey("P-384");
  Json sig = RsaJwk(rsa_, "sig-1");
  sig["use"] = "sig";
  Json enc = RsaJwk(rsa_, "enc-1");
  enc["use"] = "enc";
  enc["alg"] = "RSA-OAEP";
  Json es384 = EcJwk(p384.get(), "es384-1", "P-384", 48);
  es384["alg"] = "ES384";
  Json okp = Json{{"kty", "OKP"}, {"kid", "ed-1"}, {"crv", "Ed25519"}, {"x", "AAAA"}};
  auto keys = JwksKeySet::Parse(Jwks({enc, sig, es384, okp}));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ((*keys)->KeyIds(), std::vector<std::string>{"sig-1"});
  EXPECT_EQ((*keys)->skipped(),
            (std::vector<std::string>{
                "key 0 (kid \"enc-1\"): \"use\" is \"enc\", not \"sig\"",
                "key 2 (kid \"es384-1\"): unsupported alg \"ES384\"",
                "key 3 (kid \"ed-1\"): unsupported kty \"OKP\" (RSA or EC expected)"}));
  // The signing key still verifies; a token naming a skipped key does not.
  auto claims =
      VerifyJwt(SignedToken(rsa_, Header("RS256", "sig-1"), Payload()), **keys, Policy(), kNow);
  EXPECT_TRUE(claims.ok()) << claims.status();
  ExpectRefused(
      VerifyJwt(SignedToken(rsa_, Header("RS256", "enc-1"), Payload()), **keys, Policy(), kNow),
      "unknown key id", kJwtUnknownKey);
  // A skipped key may be malformed in what we do not read, but it never
  // leaks a secret, repeats a kid or contradicts itself.
  Json enc_with_private = enc;
  enc_with_private["d"] = "AAAA";
  EXPECT_EQ(JwksKeySet::Parse(Jwks({sig, enc_with_private})).status().message(),
            "JWKS key 1 (kid \"enc-1\"): contains private key material (\"d\"); publish only the "
            "public key");
  Json enc_same_kid = enc;
  enc_same_kid["kid"] = "sig-1";
  EXPECT_EQ(JwksKeySet::Parse(Jwks({sig, enc_same_kid})).status().message(),
            "JWKS key 1 (kid \"sig-1\"): duplicate kid");
  Json p384_as_es256 = es384;
  p384_as_es256["alg"] = "ES256";
  EXPECT_EQ(JwksKeySet::Parse(Jwks({sig, p384_as_es256})).status().message(),
            "JWKS key 1 (kid \"es384-1\"): \"alg\" ES256 needs crv P-256");
}

TEST_F(JwtJwksTest, RefusesBadDocuments) {
  PkeyPtr short_rsa = NewRsaKey(1024);
  PkeyPtr p384 = NewEcKey("P-384");
  Json ec = EcJwk(ec_, "ec");
  Json rsa = RsaJwk(rsa_, "rsa");
  auto changed = [](Json jwk, const std::string& name, const Json& value) {
    if (value.is_null()) {
      jwk.erase(name);
    } else {
      jwk[name] = value;
    }
    return jwk;
  };
  std::string x = *Base64UrlDecode(ec["x"].get<std::string>());
  std::string y = *Base64UrlDecode(ec["y"].get<std::string>());
  std::string off_curve_y = y;
  off_curve_y[31] ^= 1;
  std::string n = BnParam(rsa_, OSSL_PKEY_PARAM_RSA_N);
  std::string even_n = n;
  even_n.back() &= '\xfe';
  struct Case {
    std::string json;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "JWKS is not a JSON object"},
      {"[]", "JWKS is not a JSON object"},
      {"{\"keys\": {}}", "JWKS has no \"keys\" array"},
      {"{}", "JWKS has no \"keys\" array"},
      {"{\"keys\": []}", "JWKS has no keys"},
      {"{\"keys\": [], \"keys\": [1]}", "JWKS has duplicate member names"},
      {"{\"keys\": [1]}", "JWKS key 0: not a JSON object"},
      {Jwks({ec, changed(rsa, "kid", nullptr)}), "JWKS key 1: \"kid\" is missing"},
      {Jwks({changed(rsa, "kid", "")}), "JWKS key 0: \"kid\" is missing"},
      {Jwks({changed(rsa, "kid", 5)}), "JWKS key 0: \"kid\" is missing"},
      {Jwks({RsaJwk(short_rsa.get(), "short")}),
       "JWKS key 0 (kid \"short\"): RSA modulus is 1024 bits; at least 2048 are required"},
      {Jwks({EcJwk(p384.get(), "p384", "P-384", 48)}),
       "JWKS has no key for RS256 or ES256 signatures; skipped key 0 (kid \"p384\"): unsupported "
       "curve \"P-384\" (only P-256)"},
      {Jwks({changed(ec, "crv", "secp256k1")}),
       "JWKS has no key for RS256 or ES256 signatures; skipped key 0 (kid \"ec\"): unsupported "
       "curve \"secp256k1\" (only P-256)"},
      {Jwks({changed(ec, "crv", nullptr)}), "JWKS key 0 (kid \"ec\"): \"crv\" is missing"},
      {Jwks({changed(rsa, "alg", "ES256")}),
       "JWKS key 0 (kid \"rsa\"): \"alg\" must be RS256 for kty RSA"},
      {Jwks({changed(rsa, "alg", "HS256")}),
       "JWKS has no key for RS256 or ES256 signatures; skipped key 0 (kid \"rsa\"): unsupported "
       "alg \"HS256\""},
      {Jwks({changed(rsa, "alg", 256)}), "JWKS key 0 (kid \"rsa\"): \"alg\" is not a string"},
      {Jwks({changed(ec, "alg", "RS256")}),
       "JWKS key 0 (kid \"ec\"): \"alg\" must be ES256 for kty EC"},
      {Jwks({changed(rsa, "use", "enc")}),
       "JWKS has no key for RS256 or ES256 signatures; skipped key 0 (kid \"rsa\"): \"use\" is "
       "\"enc\", not \"sig\""},
      {Jwks({changed(rsa, "use", 1)}), "JWKS key 0 (kid \"rsa\"): \"use\" is not a string"},
      {Jwks({changed(rsa, "key_ops", {"encrypt"})}),
       "JWKS has no key for RS256 or ES256 signatures; skipped key 0 (kid \"rsa\"): \"key_ops\" "
       "does not include \"verify\""},
      {Jwks({changed(rsa, "key_ops", "verify")}),
       "JWKS key 0 (kid \"rsa\"): \"key_ops\" is not an array"},
      {Jwks({changed(ec, "d", "AAAA")}),
       "JWKS key 0 (kid \"ec\"): contains private key material (\"d\"); publish only the public "
       "key"},
      {Jwks({Json{{"kty", "oct"}, {"kid", "h"}, {"k", "c2VjcmV0"}}}),
       "JWKS key 0 (kid \"h\"): contains private key material (\"k\"); publish only the public "
       "key"},
      {Jwks({Json{{"kty", "OKP"}, {"kid", "ed"}, {"crv", "Ed25519"}, {"x", "AAAA"}}}),
       "JWKS has no key for RS256 or ES256 signatures; skipped key 0 (kid \"ed\"): unsupported kty "
       "\"OKP\" (RSA or EC expected)"},
      {Jwks({Json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}}, changed(ec, "use", "enc")}),
       "JWKS has no key for RS256 or ES256 signatures; skipped key 0: unsupported kty \"OKP\" (RSA "
       "or EC expected); key 1 (kid \"ec\"): \"use\" is "
       "\"enc\", not \"sig\""},
      {Jwks({changed(rsa, "kty", nullptr)}), "JWKS key 0 (kid \"rsa\"): \"kty\" is missing"},
      {Jwks({changed(rsa, "n", "AQAB=")}), "JWKS key 0 (kid \"rsa\"): \"n\" is not base64url"},
      {Jwks({changed(rsa, "e", nullptr)}), "JWKS key 0 (kid \"rsa\"): \"e\" is missing"},
      {Jwks({changed(ec, "x", Base64UrlEncode(x.substr(1)))}),
       "JWKS key 0 (kid \"ec\"): \"x\" and \"y\" must be 32 bytes each"},
      {Jwks({rsa, changed(ec, "kid", "rsa")}), "JWKS key 1 (kid \"rsa\"): duplicate kid"},
  };
  for (const Case& c : cases) {
    auto keys = JwksKeySet::Parse(c.json);
    ASSERT_FALSE(keys.ok()) << c.json;
    EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(keys.status().message(), c.message);
  }
  // OpenSSL's own checks: a point off the curve, an even modulus, e = 1.
  for (const auto& [json, kid] : std::vector<std::pair<std::string, std::string>>{
           {Jwks({changed(ec, "y", Base64UrlEncode(off_curve_y))}), "ec"},
           {Jwks({changed(rsa, "n", Base64UrlEncode(even_n))}), "rsa"},
           {Jwks({changed(rsa, "e", "AQ")}), "rsa"},
       }) {
    auto keys = JwksKeySet::Parse(json);
    ASSERT_FALSE(keys.ok()) << kid;
    EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(keys.status().message()),
                StartsWith(absl::StrCat("JWKS key 0 (kid \"", kid, "\"): ")));
  }
}

// --- JwksFile ----------------------------------------------------------------

class JwtJwksFileTest : public JwtTestBase {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(::testing::TempDir(), "/jwks_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
                         getpid(), ".json");
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(JwtJwksFileTest, ReloadPicksUpNewKeysAndKeepsThemOverGarbage) {
  WriteFile(path_, Jwks({RsaJwk(rsa_, "rsa-1")}));
  auto file = JwksFile::Open(path_);
  ASSERT_TRUE(file.ok()) << file.status();
  std::shared_ptr<const JwksKeySet> before = (*file)->keys();
  EXPECT_TRUE(before->Contains("rsa-1"));
  std::string es_token = Mint(*ec_signer_, Request());
  ExpectRefused(VerifyJwt(es_token, *before, Policy(), kNow), "unknown key id", kJwtUnknownKey);

  WriteFile(path_, Jwks({RsaJwk(rsa_, "rsa-1"), EcJwk(ec_, "ec-1")}));
  ASSERT_TRUE((*file)->Reload().ok());
  EXPECT_TRUE(VerifyJwt(es_token, *(*file)->keys(), Policy(), kNow).ok());
  EXPECT_FALSE(before->Contains("ec-1"));  // a set once handed out never changes

  WriteFile(path_, "{\"keys\": [garbage");
  absl::Status reload = (*file)->Reload();
  EXPECT_EQ(reload.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reload.message(), absl::StrCat(path_, ": JWKS is not a JSON object"));
  EXPECT_TRUE(VerifyJwt(es_token, *(*file)->keys(), Policy(), kNow).ok());

  std::remove(path_.c_str());
  EXPECT_EQ((*file)->Reload().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*file)->keys()->size(), 2u);
}

TEST_F(JwtJwksFileTest, KeysNoticesChangedFile) {
  WriteFile(path_, Jwks({RsaJwk(rsa_, "rsa-1")}));
  auto file = JwksFile::Open(path_, absl::ZeroDuration());
  ASSERT_TRUE(file.ok()) << file.status();
  WriteFile(path_, Jwks({EcJwk(ec_, "ec-1")}));
  EXPECT_TRUE((*file)->keys()->Contains("ec-1"));
  EXPECT_FALSE((*file)->keys()->Contains("rsa-1"));
  WriteFile(path_, "not json at all");
  EXPECT_TRUE((*file)->keys()->Contains("ec-1"));
  std::remove(path_.c_str());
  EXPECT_TRUE((*file)->keys()->Contains("ec-1"));
  WriteFile(path_, Jwks({RsaJwk(rsa_, "rsa-1")}));
  EXPECT_TRUE((*file)->keys()->Contains("rsa-1"));
}

TEST_F(JwtJwksFileTest, ChecksAtMostOncePerInterval) {
  WriteFile(path_, Jwks({RsaJwk(rsa_, "rsa-1")}));
  auto file = JwksFile::Open(path_, absl::Hours(1));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE((*file)->keys()->Contains("rsa-1"));  // the first check, right away
  WriteFile(path_, Jwks({EcJwk(ec_, "ec-1")}));
  EXPECT_TRUE((*file)->keys()->Contains("rsa-1"));
  ASSERT_TRUE((*file)->Reload().ok());
  EXPECT_TRUE((*file)->keys()->Contains("ec-1"));
}

TEST_F(JwtJwksFileTest, OpenNeedsAReadableValidFile) {
  auto missing = JwksFile::Open(path_ + ".missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("cannot read JWKS file"));
  WriteFile(path_, Jwks({RsaJwk(NewRsaKey(1024).get(), "short")}));
  auto bad = JwksFile::Open(path_);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), StartsWith(path_ + ": JWKS key 0"));
}

TEST_F(JwtJwksFileTest, ReadersKeepWorkingWhileTheFileRotates) {
  std::string one = Jwks({RsaJwk(rsa_, "rsa-1"), EcJwk(ec_, "ec-1")});
  std::string two = Jwks({EcJwk(ec_, "ec-1"), RsaJwk(rsa_, "rsa-1"), RsaJwk(other_rsa_, "r2")});
  WriteFile(path_, one);
  auto file = JwksFile::Open(path_, absl::ZeroDuration());
  ASSERT_TRUE(file.ok()) << file.status();
  std::string token = Mint(*ec_signer_, Request());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto keys = (*file)->keys();
        if (keys == nullptr || !VerifyJwt(token, *keys, Policy(), kNow).ok()) ++failures;
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    WriteFile(path_, i % 3 == 2 ? "{garbage" : (i % 3 == 0 ? two : one));
    if (i % 10 == 0) (*file)->Reload().IgnoreError();
  }
  stop = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0);
}

// --- Minting -------------------------------------------------------------------

class JwtMintTest : public JwtTestBase {};

TEST_F(JwtMintTest, SigningKeyAlgFollowsKeyType) {
  EXPECT_EQ(rsa_signer_->alg(), "RS256");
  EXPECT_EQ(ec_signer_->alg(), "ES256");
  EXPECT_EQ(ec_signer_->kid(), "ec-1");
}

TEST_F(JwtMintTest, RefusesUnsuitableSigningKeys) {
  struct Case {
    std::string pem;
    std::string message;
  };
  const std::vector<Case> cases = {
      {PrivatePem(NewRsaKey(1024).get()), "RSA key is 1024 bits; 2048..8192 are supported"},
      {PrivatePem(NewEcKey("P-384").get()), "EC key is not on curve P-256"},
      {PrivatePem(NewEd25519Key().get()), "JWT signing key must be RSA or EC P-256"},
      {PublicPem(rsa_), "no unencrypted private key in the PEM"},
      {PrivatePem(ec_, "secret"), "no unencrypted private key in the PEM"},
      {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
       "no unencrypted private key in the PEM"},
      {"", "JWT signing key PEM is empty"},
  };
  for (const Case& c : cases) {
    auto key = JwtSigningKey::FromPem(c.pem, "k");
    ASSERT_FALSE(key.ok()) << c.message;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(key.status().message()), StartsWith(c.message));
  }
  for (const char* kid : {"", "two words", "k\n"}) {
    EXPECT_EQ(JwtSigningKey::FromPem(PrivatePem(ec_), kid).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(JwtMintTest, ReadsKeyFiles) {
  std::string path = absl::StrCat(::testing::TempDir(), "/jwt_key_", getpid(), ".pem");
  WriteFile(path, PrivatePem(ec_));
  auto key = JwtSigningKey::FromPemFile(path, "ec-file");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->alg(), "ES256");
  WriteFile(path, "junk");
  EXPECT_THAT(std::string(JwtSigningKey::FromPemFile(path, "k").status().message()),
              StartsWith(path + ": no unencrypted private key"));
  std::remove(path.c_str());
  EXPECT_EQ(JwtSigningKey::FromPemFile(path, "k").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(JwtMintTest, WritesTheExpectedHeaderAndClaims) {
  JwtMintRequest request = Request();
  request.not_before = kNow;
  request.roles.clear();
  std::vector<std::string> parts = Parts(Mint(*ec_signer_, request));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(Json::parse(*Base64UrlDecode(parts[0])),
            (Json{{"alg", "ES256"}, {"kid", "ec-1"}, {"typ", "JWT"}}));
  Json payload = Json::parse(*Base64UrlDecode(parts[1]));
  EXPECT_EQ(payload["nbf"], absl::ToUnixSeconds(kNow));
  EXPECT_EQ(payload["exp"], absl::ToUnixSeconds(kNow) + 600);
  EXPECT_FALSE(payload.contains("roles"));
  auto claims = Verify(Join(parts));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_TRUE(claims->roles.empty());
  EXPECT_EQ(claims->not_before, kNow);
}

TEST_F(JwtMintTest, RefusesRequestsTheVerifierWouldRefuse) {
  auto expect_invalid = [&](const JwtMintRequest& request, absl::string_view field) {
    auto token = MintJwt(*rsa_signer_, request);
    ASSERT_FALSE(token.ok()) << field;
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(token.status().message()),
                StartsWith(absl::StrCat("invalid token request: ", field, ": ")));
  };
  JwtMintRequest request = Request();
  request.issuer = "";
  expect_invalid(request, "issuer");
  request = Request();
  request.audience = "\xff";
  expect_invalid(request, "audience");
  request = Request();
  request.subject = "two words";
  expect_invalid(request, "subject");
  request = Request();
  request.roles = {"ok", ""};
  expect_invalid(request, "roles");
  request = Request();
  request.expires_at = request.issued_at;
  expect_invalid(request, "expires_at");
  request = Request();
  request.expires_at = absl::InfiniteFuture();
  expect_invalid(request, "expires_at");
  request = Request();
  request.not_before = request.expires_at;
  expect_invalid(request, "not_before");
}

TEST_F(JwtMintTest, JwksOfSeveralKeysForRotation) {
  auto other = JwtSigningKey::FromPem(PrivatePem(other_rsa_), "rsa-2");
  ASSERT_TRUE(other.ok());
  auto jwks = JwksForPublicKeys({*rsa_signer_, *other});
  ASSERT_TRUE(jwks.ok()) << jwks.status();
  auto keys = JwksKeySet::Parse(*jwks);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_TRUE(VerifyJwt(Mint(*other, Request()), **keys, Policy(), kNow).ok());
  EXPECT_TRUE(VerifyJwt(Mint(*rsa_signer_, Request()), **keys, Policy(), kNow).ok());
  EXPECT_EQ(JwksForPublicKeys({*rsa_signer_, *rsa_signer_}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto single = JwksForPublicKey(*ec_signer_);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(Json::parse(*single)["keys"].size(), 1u);
}

// --- Fuzz ----------------------------------------------------------------------

class JwtFuzzTest : public JwtTestBase {};

// 10,000 random edits of valid tokens: no crash, and nothing but the
// original token is ever accepted.
TEST_F(JwtFuzzTest, MutatedTokensAreNeverAccepted) {
  std::mt19937 rng(20240601);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \n";
  std::vector<std::string> originals;
  for (const JwtSigningKey* signer : {rsa_signer_, ec_signer_}) {
    originals.push_back(Mint(*signer, Request()));
  }
  int accepted_unchanged = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string& original = originals[i % originals.size()];
    std::string token = original;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      size_t pos = token.empty() ? 0 : rng() % token.size();
      switch (rng() % 8) {
        case 0:  // flip one bit
          if (!token.empty()) token[pos] ^= static_cast<char>(1u << (rng() % 8));
          break;
        case 1:  // any byte
          if (!token.empty()) token[pos] = static_cast<char>(rng());
          break;
        case 2:  // a plausible character
          if (!token.empty()) token[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 3:
          token.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 4:
          if (!token.empty()) token.erase(pos, 1 + rng() % 4);
          break;
        case 5:
          token.resize(pos);
          break;
        case 6: {  // duplicate a stretch
          size_t length = rng() % 40;
          token.insert(pos, token.substr(pos, length));
          break;
        }
        case 7: {  // swap two parts
          std::vector<std::string> parts = Parts(token);
          if (parts.size() >= 2) {
            std::swap(parts[rng() % parts.size()], parts[rng() % parts.size()]);
            token = Join(parts);
          }
          break;
        }
      }
    }
    auto result = Verify(token);
    if (token == original) {
      EXPECT_TRUE(result.ok()) << result.status();
      ++accepted_unchanged;
      continue;
    }
    ASSERT_FALSE(result.ok()) << "accepted a mutated token: " << token;
    ASSERT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated) << result.status();
    ASSERT_FALSE(ErrorReason(result.status()).empty()) << result.status();
  }
  EXPECT_LT(accepted_unchanged, 1000);
}

TEST_F(JwtFuzzTest, RandomInputsAreRefused) {
  std::mt19937 rng(99);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
  for (int i = 0; i < 3000; ++i) {
    std::string token(rng() % 400, '\0');
    bool bytes = i % 2 == 0;
    for (char& c : token) {
      c = bytes ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
    }
    auto result = Verify(token);
    ASSERT_FALSE(result.ok());
    ASSERT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
  }
  // Valid base64url of random JSON-ish text in each part.
  const std::vector<std::string> fragments = {
      "{",         "}",         "[",           "]",           ",",        ":",        "\"alg\"",
      "\"RS256\"", "\"ES256\"", "\"kid\"",     "\"rsa-1\"",   "\"ec-1\"", "\"crit\"", "null",
      "1e999",     "-0",        "\"\\u0000\"", "\"\\ud800\"", "true",     "0"};
  for (int i = 0; i < 3000; ++i) {
    std::string parts[3];
    for (std::string& part : parts) {
      std::string text;
      for (int k = rng() % 12; k > 0; --k) text += fragments[rng() % fragments.size()];
      part = Base64UrlEncode(text);
    }
    auto result = Verify(absl::StrCat(parts[0], ".", parts[1], ".", parts[2]));
    ASSERT_FALSE(result.ok());
    ASSERT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
  }
}

}  // namespace
}  // namespace shop
