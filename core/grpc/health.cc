#include "core/grpc/health.h"

#include "absl/time/time.h"
#include "core/grpc/call_context.h"

namespace shop {

using grpc::health::v1::HealthCheckResponse;

void HealthService::SetAll(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  for (auto& [name, state] : serving_) state = serving;
  ++version_;
}

void HealthService::Set(const std::string& service, bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  serving_[service] = serving;
  ++version_;
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, state] : serving_) state = false;
  shut_down_ = true;
  ++version_;
}

HealthCheckResponse::ServingStatus HealthService::StatusOf(const std::string& service) {
  auto it = serving_.find(service);
  if (it == serving_.end()) return HealthCheckResponse::SERVICE_UNKNOWN;
  return it->second ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

grpc::Status HealthService::Check(grpc::ServerContext* ctx,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::MutexLock lock(&mu_);
  HealthCheckResponse::ServingStatus status = StatusOf(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service");
  }
  response->set_status(status);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(grpc::ServerContext* ctx,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::ServerWriter<HealthCheckResponse>* writer) {
  SHOP_RPC_ENTER(ctx);
  uint64_t seen = 0;
  bool first = true;
  HealthCheckResponse::ServingStatus sent = HealthCheckResponse::UNKNOWN;
  while (!ctx->IsCancelled()) {
    HealthCheckResponse response;
    bool done;
    {
      absl::MutexLock lock(&mu_);
      auto changed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return version_ != seen; };
      // Woken by a change; otherwise every second, to notice a caller that
      // left.
      if (!first) mu_.AwaitWithTimeout(absl::Condition(&changed), absl::Seconds(1));
      if (!first && version_ == seen) continue;
      first = false;
      seen = version_;
      response.set_status(StatusOf(request->service()));
      done = shut_down_;
    }
    if (response.status() == sent && !done) continue;  // another service changed
    sent = response.status();
    if (!writer->Write(response) || done) break;
  }
  return grpc::Status::OK;
}

}  // namespace shop
