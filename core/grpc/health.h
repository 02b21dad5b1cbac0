// The gRPC health service (grpc.health.v1.Health) of every server, under the
// server's authorization policy like any other method: gRPC's built-in one
// answers before any policy is consulted, so a policy could not restrict it.
#ifndef SHOP_CORE_GRPC_HEALTH_H_
#define SHOP_CORE_GRPC_HEALTH_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace shop {

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  // The server as a whole ("") and every named service set so far. Ignored
  // after Shutdown.
  void SetAll(bool serving);
  // One named service (e.g. a dependency that is down). Ignored after
  // Shutdown.
  void Set(const std::string& service, bool serving);
  // Everything NOT_SERVING for good; Watch streams send that and end.
  void Shutdown();

  // NOT_FOUND for a service never set.
  grpc::Status Check(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  // The status now and at every change, until the caller leaves, its
  // deadline passes or the server shuts down (SERVICE_UNKNOWN for a service
  // never set, as the protocol says).
  grpc::Status Watch(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

 private:
  grpc::health::v1::HealthCheckResponse::ServingStatus StatusOf(const std::string& service)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<std::string, bool> serving_ ABSL_GUARDED_BY(mu_) = {{"", false}};
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;  // changes at every change, for Watch
};

}  // namespace shop

#endif  // SHOP_CORE_GRPC_HEALTH_H_
