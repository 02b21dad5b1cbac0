// mTLS for every server and channel of the mesh. Servers require and verify
// client certificates; identities are SPIFFE URIs in the certificate SAN.
#ifndef SHOP_CORE_TLS_H_
#define SHOP_CORE_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class Channel;
class ChannelCredentials;
class ServerCredentials;
}  // namespace grpc

namespace shop {

// PEM files of one workload: the CA that signs the mesh, its certificate
// (chain) and its private key.
struct TlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
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

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files);

struct ChannelOptions {
  // With the client tracing interceptor (core/grpc/interceptors.h): passes the trace on
  // and records a CLIENT span per call. Off only for the audit exporter.
  bool traced = true;
  // Calls use generated stubs (false for grpc::GenericStub: the interceptor
  // must not read messages as protobuf then).
  bool typed_messages = true;
};

// A channel to `target` ("host:port") over mTLS. The server's certificate
// must name the host (the dev PKI adds localhost and 127.0.0.1).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& target,
                                                           const TlsFiles& files,
                                                           ChannelOptions options = {});

}  // namespace shop

#endif  // SHOP_CORE_TLS_H_
