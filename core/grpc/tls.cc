#include "core/grpc/tls.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/support/client_interceptor.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/grpc/identity.h"
#include "core/grpc/interceptors.h"
#include "core/log.h"
#include "core/span.h"

namespace shop {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " path is empty"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (buffer.str().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", path, " is empty"));
  }
  return buffer.str();
}

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct StoreDeleter {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

BioPtr MemBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string SpiffeIdOf(X509* cert) {
  std::string result;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return result;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const auto* uri = name->d.uniformResourceIdentifier;
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      ASN1_STRING_length(uri));
    if (absl::StartsWith(value, "spiffe://")) {
      result = value;
      break;
    }
  }
  GENERAL_NAMES_free(names);
  return result;
}

// Accepts the server only when its certificate names the expected SPIFFE id.
// It runs after the chain has been verified against the mesh CA (and, by
// OpenSSL, the serverAuth usage).
class SpiffeServerVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit SpiffeServerVerifier(std::string expected) : expected_(std::move(expected)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    std::vector<std::string> presented;
    for (const grpc::string_ref& uri : request->uri_names()) {
      presented.emplace_back(uri.data(), uri.size());
    }
    absl::Status check = CheckServerIdentity(expected_, presented);
    if (check.ok()) {
      *sync_status = grpc::Status::OK;
    } else {
      log::Error(
          "refused a server that is not the one this channel is for",
          {{"expected", expected_},
           {"presented", absl::StrJoin(presented, ",")},
           {"target", std::string(request->target_name().data(), request->target_name().size())}});
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(check.message()));
    }
    return true;  // decided synchronously
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  const std::string expected_;
};

std::shared_ptr<grpc::experimental::FileWatcherCertificateProvider> WatchFiles(
    const TlsFiles& files) {
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.ca_file,
      static_cast<unsigned int>(std::max(1, files.refresh_seconds)));
}

}  // namespace

absl::Status CheckServerIdentity(const std::string& expected,
                                 const std::vector<std::string>& presented) {
  if (presented.size() == 1 && presented[0] == expected) return absl::OkStatus();
  return absl::UnauthenticatedError(absl::StrCat(
      "the server presented ", presented.empty() ? "no URI SAN" : absl::StrJoin(presented, ", "),
      " where only ", expected, " may serve this channel"));
}

absl::StatusOr<CertificateInfo> ValidateTlsFiles(const TlsFiles& files) {
  auto ca_pem = ReadFile(files.ca_file, "CA certificate");
  if (!ca_pem.ok()) return ca_pem.status();
  auto cert_pem = ReadFile(files.cert_file, "certificate");
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = ReadFile(files.key_file, "private key");
  if (!key_pem.ok()) return key_pem.status();

  std::unique_ptr<X509_STORE, StoreDeleter> store(X509_STORE_new());
  {
    BioPtr bio = MemBio(*ca_pem);
    int loaded = 0;
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store.get(), ca);
      X509_free(ca);
      ++loaded;
    }
    ERR_clear_error();
    if (loaded == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("CA file ", files.ca_file, " holds no PEM certificate"));
    }
  }
  BioPtr cert_bio = MemBio(*cert_pem);
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate file ", files.cert_file, " is not PEM: ", OpenSslError()));
  }
  BioPtr key_bio = MemBio(*key_pem);
  std::unique_ptr<EVP_PKEY, KeyDeleter> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key file ", files.key_file, " is not a PEM key: ", OpenSslError()));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "private key ", files.key_file, " does not match certificate ", files.cert_file));
  }
  // Certificates after the first in the file are its chain (intermediates).
  STACK_OF(X509)* chain = sk_X509_new_null();
  while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(chain, extra);
  }
  ERR_clear_error();
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain_owner(
      chain, [](STACK_OF(X509) * c) { sk_X509_pop_free(c, X509_free); });
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), chain);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    return absl::InvalidArgumentError(absl::StrCat("certificate ", files.cert_file,
                                                   " is not trusted by CA ", files.ca_file, ": ",
                                                   X509_verify_cert_error_string(err)));
  }
  CertificateInfo info;
  info.ca_pem = *ca_pem;
  info.cert_pem = *cert_pem;
  info.key_pem = *key_pem;
  info.spiffe_id = SpiffeIdOf(cert.get());
  char subject[512];
  X509_NAME_oneline(X509_get_subject_name(cert.get()), subject, sizeof(subject));
  info.subject = subject;
  if (info.spiffe_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate ", files.cert_file, " has no spiffe:// URI subject alternative name"));
  }
  return info;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files) {
  auto info = ValidateTlsFiles(files);
  if (!info.ok()) return info.status();
  {
    BioPtr bio = MemBio(info->cert_pem);
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert || X509_check_purpose(cert.get(), X509_PURPOSE_SSL_SERVER, 0) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          absl::StrCat("certificate ", files.cert_file, " (", info->spiffe_id,
                       ") is not a server certificate: it lacks the serverAuth usage"));
    }
  }
  grpc::experimental::TlsServerCredentialsOptions options(WatchFiles(files));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files, const std::string& server_id) {
  auto info = ValidateTlsFiles(files);
  if (!info.ok()) return info.status();
  if (!absl::StartsWith(server_id, "spiffe://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected server identity \"", server_id, "\" is not a SPIFFE id"));
  }
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(WatchFiles(files));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  // The server is authenticated by its SPIFFE id, not by the host name the
  // channel dials (127.0.0.1, a pod IP, a headless service's name).
  options.set_check_call_host(false);
  options.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<SpiffeServerVerifier>(server_id));
  return grpc::experimental::TlsCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& target,
                                                           const std::string& server,
                                                           const TlsFiles& files,
                                                           ChannelOptions options) {
  if (target.empty()) return absl::InvalidArgumentError("empty target address");
  auto creds = MakeChannelCredentials(files, SpiffeIdFor(server));
  if (!creds.ok()) return creds.status();
  grpc::ChannelArguments args;
  // Fail fast on a dead peer instead of hanging on a half-open connection.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  if (!options.traced) return grpc::CreateCustomChannel(target, *creds, args);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeClientInterceptorFactory(target, options.typed_messages));
  return grpc::experimental::CreateCustomChannelWithInterceptors(target, *creds, args,
                                                                 std::move(interceptors));
}

}  // namespace shop
