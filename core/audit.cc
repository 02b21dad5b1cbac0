#include "core/audit.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/authz.h"
#include "core/grpc_status.h"
#include "core/status.h"
#include "google/rpc/error_details.pb.h"
#include "core/identity.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/trace.h"
#include "core/validation.h"
#include "shop/v1/audit.grpc.pb.h"

namespace shop {
namespace {

using google::protobuf::util::TimeUtil;
using shop::v1::AuditEvent;
using shop::v1::AuditLogService;

google::protobuf::Timestamp Now() {
  return TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch()).count());
}

// Copies order_id / customer_id from a message or its direct sub-messages
// (e.g. PlaceOrderResponse.order.order_id), without knowing its type.
void ExtractIds(const google::protobuf::Message& message, AuditEvent& event, int depth = 0) {
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (field->is_repeated()) continue;
    if (field->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
      // Requests are not validated yet: keep only ids that look like ids, so
      // one absurd request cannot make an event the log refuses.
      if (field->name() == "order_id" && event.order_id().empty()) {
        std::string id = reflection->GetString(message, field);
        if (IsValidId(id)) event.set_order_id(id);
      } else if (field->name() == "customer_id" && event.customer_id().empty()) {
        std::string id = reflection->GetString(message, field);
        if (IsValidId(id)) event.set_customer_id(id);
      }
    } else if (field->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
               depth == 0 && reflection->HasField(message, field)) {
      ExtractIds(reflection->GetMessage(message, field), event, depth + 1);
    }
  }
}

class ServerAuditInterceptor final : public grpc::experimental::Interceptor {
 public:
  ServerAuditInterceptor(grpc::experimental::ServerRpcInfo* info, const std::string& service,
                         AuditSink* sink, const AuthzPolicyHolder* policy)
      : info_(info), service_(service), sink_(sink), policy_(policy) {
    method_ = info->method() != nullptr ? info->method() : "";
    // Our own messages are protobuf; the health service's are raw bytes.
    typed_messages_ = absl::StartsWith(method_, "/shop.v1.");
    // Health probes would flood the log; the log's own intake would recurse.
    audited_ = !absl::StartsWith(method_, "/grpc.health.v1.") &&
               method_ != "/shop.v1.AuditLogService/Ingest";
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      OnInitialMetadata(methods->GetRecvInitialMetadata());
    }
    if (typed_messages_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (void* message = methods->GetRecvMessage()) {
        ExtractIds(*static_cast<google::protobuf::Message*>(message), event_);
      }
    }
    if (typed_messages_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      if (const void* message = methods->GetSendMessage()) {
        ExtractIds(*static_cast<const google::protobuf::Message*>(message), event_);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      OnStatus(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void OnInitialMetadata(std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
    start_ = Now();
    TraceContext trace;
    if (auto it = metadata->find(kTraceparentHeader); it != metadata->end()) {
      if (auto parent = ParseTraceparent(absl::string_view(it->second.data(), it->second.size()))) {
        trace.trace_id = parent->trace_id;
        trace.parent_span_id = parent->span_id;
      }
    }
    if (trace.trace_id.empty()) trace.trace_id = NewTraceId();
    trace.span_id = NewSpanId();
    if (auto it = metadata->find(kCustomerHeader); it != metadata->end()) {
      std::string customer(it->second.data(), it->second.size());
      if (IsValidId(customer)) event_.set_customer_id(customer);
    }
    // A caller must not choose our span or verdict: drop what it sent.
    metadata->erase(kServerSpanHeader);
    metadata->erase(kAuthzHeader);
    span_header_ = EncodeServerSpan(trace);
    metadata->emplace(grpc::string_ref(kServerSpanHeader), grpc::string_ref(span_header_));
    if (grpc::ServerContextBase* ctx = info_->server_context()) caller_ = PeerSpiffeId(*ctx);
    bool allowed = policy_ != nullptr && policy_->Allows(caller_, method_);
    metadata->emplace(grpc::string_ref(kAuthzHeader),
                      grpc::string_ref(allowed ? kAuthzAllow : kAuthzDeny));
    if (!allowed) {
      log::Warn("permission denied", {{"method", method_}, {"caller", caller_}});
    }
    event_.set_trace_id(trace.trace_id);
    event_.set_span_id(trace.span_id);
    event_.set_parent_span_id(trace.parent_span_id);
  }

  void OnStatus(const grpc::Status& status) {
    if (!audited_ || sink_ == nullptr) return;
    event_.set_event_id(NewUuid());
    event_.set_kind(shop::v1::EVENT_KIND_SERVER_SPAN);
    event_.set_service(service_);
    std::string name = method_.size() > 1 ? method_.substr(1) : method_;
    event_.set_name(name);
    *event_.mutable_start_time() = start_;
    *event_.mutable_end_time() = Now();
    event_.set_status_code(status.error_code());
    event_.set_status_message(status.error_message().substr(0, 1024));
    if (event_.order_id().empty() && !status.ok()) {
      // A failed call may name its order only in the error (ErrorInfo).
      google::rpc::ErrorInfo info;
      if (GetDetail(FromGrpcStatus(status), info) && info.metadata().count("order_id") > 0) {
        event_.set_order_id(info.metadata().at("order_id"));
      }
    }
    event_.set_caller(caller_);
    if (grpc::ServerContextBase* ctx = info_->server_context()) {
      event_.set_peer_address(ctx->peer());
    }
    auto& attributes = *event_.mutable_attributes();
    attributes["rpc.system"] = "grpc";
    size_t slash = name.find('/');
    attributes["rpc.service"] = name.substr(0, slash);
    attributes["rpc.method"] = slash == std::string::npos ? "" : name.substr(slash + 1);
    attributes["rpc.grpc.status_code"] = std::to_string(status.error_code());
    log::Info("rpc served", {{"method", name},
                             {"caller", event_.caller()},
                             {"code", static_cast<int>(status.error_code())},
                             {"trace_id", event_.trace_id()},
                             {"order_id", event_.order_id()}});
    sink_->Emit(std::move(event_));
  }

  grpc::experimental::ServerRpcInfo* info_;
  const std::string& service_;
  AuditSink* sink_;
  const AuthzPolicyHolder* policy_;
  std::string method_;
  std::string caller_;
  bool typed_messages_ = false;
  bool audited_ = true;
  std::string span_header_;
  google::protobuf::Timestamp start_;
  AuditEvent event_;
};

class ServerAuditInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  ServerAuditInterceptorFactory(std::string service, AuditSink* sink,
                                std::shared_ptr<AuthzPolicyHolder> policy)
      : service_(std::move(service)), sink_(sink), policy_(std::move(policy)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ServerAuditInterceptor(info, service_, sink_, policy_.get());
  }

 private:
  std::string service_;
  AuditSink* sink_;
  std::shared_ptr<AuthzPolicyHolder> policy_;
};

}  // namespace

AuditEvent NewBusinessEvent(absl::string_view name, absl::string_view order_id,
                            const std::map<std::string, std::string>& attributes) {
  AuditEvent event;
  event.set_event_id(NewUuid());
  event.set_kind(shop::v1::EVENT_KIND_BUSINESS);
  event.set_name(std::string(name));
  event.set_order_id(std::string(order_id));
  *event.mutable_start_time() = Now();
  *event.mutable_end_time() = event.start_time();
  if (const TraceContext* trace = CurrentTrace()) {
    event.set_trace_id(trace->trace_id);
    event.set_parent_span_id(trace->span_id);
  }
  event.set_span_id(NewSpanId());
  for (const auto& [key, value] : attributes) (*event.mutable_attributes())[key] = value;
  return event;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeServerInterceptorFactory(std::string service, AuditSink* sink,
                             std::shared_ptr<AuthzPolicyHolder> policy) {
  return std::make_unique<ServerAuditInterceptorFactory>(std::move(service), sink,
                                                         std::move(policy));
}

AuditExporter::AuditExporter(AuditExporterOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<AuditExporter>> AuditExporter::Start(
    AuditExporterOptions options) {
  // The exporter's channel has no audit interceptor: exporting must not
  // produce events of its own.
  auto channel = MakeChannel(options.target, options.tls);
  if (!channel.ok()) return channel.status();
  std::unique_ptr<AuditExporter> exporter(new AuditExporter(std::move(options)));
  exporter->stub_holder_ = std::shared_ptr<AuditLogService::Stub>(
      AuditLogService::NewStub(*channel).release());
  exporter->thread_ = std::thread([e = exporter.get()] { e->Run(); });
  return exporter;
}

AuditExporter::~AuditExporter() {
  Flush(std::chrono::seconds(5));
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  AuditExporterStats s = stats();
  log::Info("audit exporter stopped", {{"exported", s.exported},
                                       {"dropped", s.dropped},
                                       {"unsent", s.queued}});
}

void AuditExporter::Emit(AuditEvent event) {
  if (event.service().empty()) event.set_service(options_.service);
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= options_.max_queue) {
    ++stats_.dropped;
    return;
  }
  queue_.push_back(std::move(event));
}

bool AuditExporter::Flush(std::chrono::milliseconds timeout) {
  absl::MutexLock lock(&mu_);
  auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queue_.empty() && in_flight_ == 0;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&drained), absl::FromChrono(timeout));
}

AuditExporterStats AuditExporter::stats() const {
  absl::MutexLock lock(&mu_);
  AuditExporterStats s = stats_;
  s.queued = static_cast<int64_t>(queue_.size()) + in_flight_;
  return s;
}

void AuditExporter::Run() {
  std::chrono::milliseconds backoff(100);
  while (true) {
    std::vector<AuditEvent> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      size_t bytes = 0;  // stay far below gRPC's 4 MiB message limit
      while (!queue_.empty() && batch.size() < options_.max_batch && bytes < (1 << 20)) {
        bytes += queue_.front().ByteSizeLong();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      in_flight_ = static_cast<int64_t>(batch.size());
    }
    SendResult sent = SendBatch(batch);
    absl::MutexLock lock(&mu_);
    in_flight_ = 0;
    if (sent == SendResult::kSent) {
      stats_.exported += static_cast<int64_t>(batch.size());
      backoff = std::chrono::milliseconds(100);
      continue;
    }
    if (sent == SendResult::kRefused) {
      // Retrying a batch the log refuses would block every later event.
      stats_.dropped += static_cast<int64_t>(batch.size());
      continue;
    }
    ++stats_.failed_attempts;
    // Put the batch back in front, in order: the log sees events in order.
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&stop), absl::FromChrono(backoff));
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

AuditExporter::SendResult AuditExporter::SendBatch(std::vector<AuditEvent>& batch) {
  auto* stub = static_cast<AuditLogService::Stub*>(stub_holder_.get());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  shop::v1::IngestResponse response;
  auto writer = stub->Ingest(&ctx, &response);
  shop::v1::IngestRequest request;
  for (auto& event : batch) *request.add_events() = event;
  bool wrote = writer->Write(request);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
      status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    log::Error("audit log refused a batch; dropped",
               {{"code", static_cast<int>(status.error_code())},
                {"error", status.error_message()},
                {"events", static_cast<int64_t>(batch.size())}});
    return SendResult::kRefused;
  }
  if (!wrote || !status.ok()) {
    log::Warn("audit export failed; will retry",
              {{"code", static_cast<int>(status.error_code())},
               {"error", status.error_message()},
               {"events", static_cast<int64_t>(batch.size())}});
    return SendResult::kFailed;
  }
  return SendResult::kSent;
}

}  // namespace shop
