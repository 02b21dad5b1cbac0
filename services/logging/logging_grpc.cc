#include "services/logging/logging_grpc.h"

#include "core/grpc/call_context.h"
#include "core/grpc/grpc_status.h"
#include "core/grpc/identity.h"
#include "core/trace.h"

namespace shop::logging {
namespace {

// Unary handlers: call the domain, translate the status, move the answer.
template <typename Result, typename Response>
grpc::Status Answer(absl::StatusOr<Result> result, Response* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status AuditLogGrpcService::Ingest(grpc::ServerContext* ctx,
                                         grpc::ServerReader<shop::v1::IngestRequest>* reader,
                                         shop::v1::IngestResponse* response) {
  SHOP_RPC_ENTER(ctx);
  // The writer is who the certificate says, whatever the events claim.
  const std::string writer = PeerSpiffeId(*ctx);
  shop::v1::IngestRequest request;
  // Each message is stored (durably) as it arrives: a broken stream keeps
  // what came before the break.
  while (reader->Read(&request)) {
    std::vector<shop::v1::AuditEvent> events(
        std::make_move_iterator(request.mutable_events()->begin()),
        std::make_move_iterator(request.mutable_events()->end()));
    auto result = log_->Ingest(writer, std::move(events));
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
  return Answer(log_->Query(*request), response);
}

grpc::Status AuditLogGrpcService::Tail(grpc::ServerContext* ctx,
                                       const shop::v1::TailRequest* request,
                                       grpc::ServerWriter<shop::v1::AuditRecord>* writer) {
  SHOP_RPC_ENTER(ctx);
  if (absl::Status s = log_->CheckTailRequest(*request); !s.ok()) return ToGrpcStatus(s);
  int64_t after = request->after_sequence() > 0 ? request->after_sequence() : -1;
  while (!ctx->IsCancelled()) {
    auto batch = log_->TailBatch(request->filter(), &after, absl::Milliseconds(500));
    if (!batch.ok()) return ToGrpcStatus(batch.status());
    for (const auto& record : *batch) {
      if (!writer->Write(record)) return grpc::Status::OK;  // the follower left
    }
  }
  return grpc::Status(grpc::StatusCode::CANCELLED, "tail cancelled");
}

grpc::Status AuditLogGrpcService::GetTrace(grpc::ServerContext* ctx,
                                           const shop::v1::GetTraceRequest* request,
                                           shop::v1::GetTraceResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Answer(log_->GetTrace(*request), response);
}

grpc::Status AuditLogGrpcService::ExportTrace(grpc::ServerContext* ctx,
                                              const shop::v1::ExportTraceRequest* request,
                                              shop::v1::ExportTraceResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Answer(log_->ExportTrace(*request), response);
}

grpc::Status AuditLogGrpcService::GetTreeHead(grpc::ServerContext* ctx,
                                              const shop::v1::GetTreeHeadRequest* request,
                                              shop::v1::SignedTreeHead* response) {
  SHOP_RPC_ENTER(ctx);
  return Answer(log_->LatestTreeHead(), response);
}

grpc::Status AuditLogGrpcService::GetInclusionProof(
    grpc::ServerContext* ctx, const shop::v1::GetInclusionProofRequest* request,
    shop::v1::GetInclusionProofResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Answer(log_->InclusionProof(*request), response);
}

grpc::Status AuditLogGrpcService::GetConsistencyProof(
    grpc::ServerContext* ctx, const shop::v1::GetConsistencyProofRequest* request,
    shop::v1::GetConsistencyProofResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Answer(log_->ConsistencyProof(*request), response);
}

grpc::Status AuditLogGrpcService::VerifyLog(grpc::ServerContext* ctx,
                                            const shop::v1::VerifyLogRequest* request,
                                            shop::v1::VerifyLogResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Answer(log_->Verify(), response);
}

}  // namespace shop::logging
