#include "services/logging/logging_grpc.h"

#include "core/grpc_status.h"
#include "core/trace.h"

namespace shop::logging {

grpc::Status AuditLogGrpcService::Ingest(grpc::ServerContext* ctx,
                                         grpc::ServerReader<shop::v1::IngestRequest>* reader,
                                         shop::v1::IngestResponse* response) {
  SHOP_RPC_ENTER(ctx);
  shop::v1::IngestRequest request;
  // Each message is stored as it arrives: a broken stream keeps what came.
  while (reader->Read(&request)) {
    std::vector<shop::v1::AuditEvent> events(request.events().begin(), request.events().end());
    auto result = log_->Ingest(events);
    if (!result.ok()) return ToGrpcStatus(result.status());
    response->set_accepted(response->accepted() + result->accepted);
    response->set_duplicates(response->duplicates() + result->duplicates);
  }
  return grpc::Status::OK;
}

grpc::Status AuditLogGrpcService::Query(grpc::ServerContext* ctx,
                                        const shop::v1::QueryRequest* request,
                                        shop::v1::QueryResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto result = log_->Query(*request);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace shop::logging
