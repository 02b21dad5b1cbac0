// mTLS for every server and channel of the mesh. Servers require and verify
// client certificates; identities are SPIFFE URIs in the certificate SAN.
#ifndef SHOP_CORE_TLS_H_
#define SHOP_CORE_TLS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace grpc {
class Channel;
class ChannelCredentials;
class ServerCredentials;
}  // namespace grpc

namespace shop {

// PEM files of one workload: the CA that signs the mesh, its certificate
// (chain) and its private key. Servers and channels re-read them every
// `refresh_seconds` (gRPC's FileWatcherCertificateProvider), so a rotated
// certificate (cert-manager, scripts/dev-pki --reissue) is served and
// presented without a restart; connections already open keep theirs.
// Replace the files atomically: swap the directory that holds them (a
// symlink, as kubelet does for Secret volumes), so that a key and its
// certificate are never read from two generations.
struct TlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  int refresh_seconds = 60;
};

// The workload identity read from the files.
struct CertificateInfo {
  std::string spiffe_id;  // "spiffe://shop.local/ns/shop/sa/ops"
  std::string subject;
  // The files' contents, as checked (so they are read once).
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// Loads and checks the files (readable PEM, key matches certificate,
// certificate signed by the CA and currently valid) so that a bad
// configuration fails at start with a message that names the file.
absl::StatusOr<CertificateInfo> ValidateTlsFiles(const TlsFiles& files);

// Server credentials: clients must present a certificate of the mesh CA
// with the clientAuth usage. INVALID_ARGUMENT when the server's own
// certificate lacks serverAuth (a client tool's certificate cannot serve).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);
// Channel credentials that accept only a server whose certificate (of the
// mesh CA, with serverAuth) carries the URI SAN `server_id`, whatever host
// name it answers on: SPIFFE authentication of the server, not a host name
// check. A refusal is logged with both ids.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files, const std::string& server_id);

// OK when `presented` (the URI SANs of a server's certificate) is exactly
// the one SPIFFE id `expected`; otherwise UNAUTHENTICATED naming both.
absl::Status CheckServerIdentity(const std::string& expected,
                                 const std::vector<std::string>& presented);

struct ChannelOptions {
  // With the client tracing interceptor (core/grpc/interceptors.h): passes the trace on
  // and records a CLIENT span per call. Off only for the audit exporter.
  bool traced = true;
  // Calls use generated stubs (false for grpc::GenericStub: the interceptor
  // must not read messages as protobuf then).
  bool typed_messages = true;
};

// A channel over mTLS to `target` ("host:port"), served by the workload
// whose service account is `server` ("ims"): any other certificate, even one
// of the mesh, is refused (see MakeChannelCredentials).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& target,
                                                           const std::string& server,
                                                           const TlsFiles& files,
                                                           ChannelOptions options = {});

}  // namespace shop

#endif  // SHOP_CORE_TLS_H_
