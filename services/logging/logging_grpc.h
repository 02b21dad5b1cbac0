// gRPC adapter of the audit log.
#ifndef SHOP_SERVICES_LOGGING_LOGGING_GRPC_H_
#define SHOP_SERVICES_LOGGING_LOGGING_GRPC_H_

#include "services/logging/audit_log.h"
#include "shop/v1/audit.grpc.pb.h"

namespace shop::logging {

class AuditLogGrpcService final : public shop::v1::AuditLogService::Service {
 public:
  explicit AuditLogGrpcService(AuditLog* log) : log_(log) {}
  grpc::Status Ingest(grpc::ServerContext* ctx,
                      grpc::ServerReader<shop::v1::IngestRequest>* reader,
                      shop::v1::IngestResponse* response) override;
  grpc::Status Query(grpc::ServerContext* ctx, const shop::v1::QueryRequest* request,
                     shop::v1::QueryResponse* response) override;

 private:
  AuditLog* log_;
};

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_LOGGING_GRPC_H_
