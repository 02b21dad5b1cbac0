// gRPC adapter of the audit log (shop.v1.AuditLogService).
#ifndef SHOP_SERVICES_LOGGING_LOGGING_GRPC_H_
#define SHOP_SERVICES_LOGGING_LOGGING_GRPC_H_

#include "services/logging/audit_log.h"
#include "shop/v1/audit.grpc.pb.h"

namespace shop::logging {

class AuditLogGrpcService final : public shop::v1::AuditLogService::Service {
 public:
  explicit AuditLogGrpcService(AuditLog* log) : log_(log) {}

  grpc::Status Ingest(grpc::ServerContext* ctx, grpc::ServerReader<shop::v1::IngestRequest>* reader,
                      shop::v1::IngestResponse* response) override;
  grpc::Status Query(grpc::ServerContext* ctx, const shop::v1::QueryRequest* request,
                     shop::v1::QueryResponse* response) override;
  grpc::Status Tail(grpc::ServerContext* ctx, const shop::v1::TailRequest* request,
                    grpc::ServerWriter<shop::v1::AuditRecord>* writer) override;
  grpc::Status GetTrace(grpc::ServerContext* ctx, const shop::v1::GetTraceRequest* request,
                        shop::v1::GetTraceResponse* response) override;
  grpc::Status ExportTrace(grpc::ServerContext* ctx, const shop::v1::ExportTraceRequest* request,
                           shop::v1::ExportTraceResponse* response) override;
  grpc::Status GetTreeHead(grpc::ServerContext* ctx, const shop::v1::GetTreeHeadRequest* request,
                           shop::v1::SignedTreeHead* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* ctx,
                                 const shop::v1::GetInclusionProofRequest* request,
                                 shop::v1::GetInclusionProofResponse* response) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext* ctx,
                                   const shop::v1::GetConsistencyProofRequest* request,
                                   shop::v1::GetConsistencyProofResponse* response) override;
  grpc::Status VerifyLog(grpc::ServerContext* ctx, const shop::v1::VerifyLogRequest* request,
                         shop::v1::VerifyLogResponse* response) override;

 private:
  AuditLog* log_;
};

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_LOGGING_GRPC_H_
