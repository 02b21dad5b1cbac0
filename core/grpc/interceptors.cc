#include "core/grpc/interceptors.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>
#include <grpcpp/support/server_interceptor.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/grpc/authz.h"
#include "core/grpc/call_context.h"
#include "core/grpc/grpc_status.h"
#include "core/grpc/identity.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/status.h"
#include "core/trace.h"
#include "core/validation.h"
#include "google/rpc/error_details.pb.h"

namespace shop {
namespace {

using shop::v1::AuditEvent;

void SetRpcAttributes(const std::string& name, int code, AuditEvent& event) {
  auto& attributes = *event.mutable_attributes();
  attributes["rpc.system"] = "grpc";
  size_t slash = name.find('/');
  attributes["rpc.service"] = name.substr(0, slash);
  attributes["rpc.method"] = slash == std::string::npos ? "" : name.substr(slash + 1);
  attributes["rpc.grpc.status_code"] = std::to_string(code);
}

// A failed call may name its order only in the error (ErrorInfo).
void OrderIdFromError(const grpc::Status& status, AuditEvent& event) {
  if (!event.order_id().empty() || status.ok()) return;
  google::rpc::ErrorInfo info;
  if (GetDetail(FromGrpcStatus(status), info) && info.metadata().count("order_id") > 0) {
    std::string id = info.metadata().at("order_id");
    if (IsValidId(id)) event.set_order_id(id);
  }
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
    } else if (field->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE && depth == 0 &&
               reflection->HasField(message, field)) {
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
      if (auto* trailers = methods->GetSendTrailingMetadata()) {
        if (auto it = trailers->find(kEndUserTrailer); it != trailers->end()) {
          if (IsValidId(it->second)) event_.set_customer_id(it->second);
          trailers->erase(it);
        }
      }
      OnStatus(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void OnInitialMetadata(std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
    start_ = TimestampNow();
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
      // gRPC's own reflection service never reads the verdict: end the call
      // here instead (the caller sees CANCELLED), so the policy holds for it
      // too. (Health is the mesh's own service and refuses by itself.)
      if (absl::StartsWith(method_, "/grpc.reflection.")) {
        if (grpc::ServerContextBase* ctx = info_->server_context()) ctx->TryCancel();
      }
    }
    event_.set_trace_id(trace.trace_id);
    event_.set_span_id(trace.span_id);
    event_.set_parent_span_id(trace.parent_span_id);
  }

  void OnStatus(const grpc::Status& status) {
    if (!audited_) return;
    // Logged with or without tracing (the log line is not the trace).
    log::Info("rpc served", {{"method", method_.size() > 1 ? method_.substr(1) : method_},
                             {"caller", caller_},
                             {"code", static_cast<int>(status.error_code())},
                             {"trace_id", event_.trace_id()},
                             {"order_id", event_.order_id()}});
    if (sink_ == nullptr) return;
    event_.set_event_id(NewTimeOrderedUuid());
    event_.set_kind(shop::v1::EVENT_KIND_SERVER_SPAN);
    event_.set_service(service_);
    std::string name = method_.size() > 1 ? method_.substr(1) : method_;
    event_.set_name(name);
    *event_.mutable_start_time() = start_;
    *event_.mutable_end_time() = TimestampNow();
    event_.set_status_code(status.error_code());
    event_.set_status_message(status.error_message().substr(0, 1024));
    OrderIdFromError(status, event_);
    event_.set_caller(caller_);
    if (grpc::ServerContextBase* ctx = info_->server_context()) {
      event_.set_peer_address(ctx->peer());
    }
    SetRpcAttributes(name, status.error_code(), event_);
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

namespace {

class ClientAuditInterceptor final : public grpc::experimental::Interceptor {
 public:
  ClientAuditInterceptor(grpc::experimental::ClientRpcInfo* info, const std::string& target,
                         bool typed_messages)
      : info_(info), target_(target) {
    method_ = info->method() != nullptr ? info->method() : "";
    typed_messages_ = typed_messages && absl::StartsWith(method_, "/shop.v1.");
    sink_ = absl::StartsWith(method_, "/grpc.health.v1.") ? nullptr : ProcessAuditSink();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      OnSendMetadata(methods->GetSendInitialMetadata());
    }
    if (sink_ != nullptr && typed_messages_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      if (const void* message = methods->GetSendMessage()) {
        ExtractIds(*static_cast<const google::protobuf::Message*>(message), event_);
      }
    }
    if (sink_ != nullptr && typed_messages_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (void* message = methods->GetRecvMessage()) {
        ExtractIds(*static_cast<google::protobuf::Message*>(message), event_);
      }
    }
    if (sink_ != nullptr &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      OnStatus(*methods->GetRecvStatus());
    }
    methods->Proceed();
  }

 private:
  void OnSendMetadata(std::multimap<std::string, std::string>* metadata) {
    start_ = TimestampNow();
    TraceContext parent;
    if (auto it = metadata->find(kTraceparentHeader); it != metadata->end()) {
      if (auto parsed = ParseTraceparent(it->second)) parent = *parsed;
      metadata->erase(it);
    } else if (const TraceContext* current = CurrentTrace()) {
      parent = *current;
      if (!current->tracestate.empty() && metadata->count(kTracestateHeader) == 0) {
        metadata->emplace(kTracestateHeader, current->tracestate);
      }
    }
    event_.set_trace_id(parent.trace_id.empty() ? NewTraceId() : parent.trace_id);
    event_.set_parent_span_id(parent.span_id);
    event_.set_span_id(NewSpanId());
    metadata->emplace(kTraceparentHeader, FormatTraceparent(event_.trace_id(), event_.span_id()));
    if (auto it = metadata->find(kCustomerHeader); it != metadata->end() && IsValidId(it->second)) {
      event_.set_customer_id(it->second);
    }
  }

  void OnStatus(const grpc::Status& status) {
    event_.set_event_id(NewTimeOrderedUuid());
    event_.set_kind(shop::v1::EVENT_KIND_CLIENT_SPAN);
    std::string name = method_.size() > 1 ? method_.substr(1) : method_;
    event_.set_name(name);
    *event_.mutable_start_time() = start_;
    *event_.mutable_end_time() = TimestampNow();
    event_.set_status_code(status.error_code());
    event_.set_status_message(status.error_message().substr(0, 1024));
    OrderIdFromError(status, event_);
    event_.set_caller(ProcessSpiffeId());
    if (grpc::ClientContext* ctx = info_->client_context()) {
      std::string peer = ctx->peer();
      event_.set_peer_address(peer.empty() ? target_ : peer);
    }
    SetRpcAttributes(name, status.error_code(), event_);
    (*event_.mutable_attributes())["server.address"] = target_;
    sink_->Emit(std::move(event_));
  }

  grpc::experimental::ClientRpcInfo* info_;
  const std::string& target_;
  AuditSink* sink_;
  std::string method_;
  bool typed_messages_ = false;
  google::protobuf::Timestamp start_;
  AuditEvent event_;
};

class ClientAuditInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  ClientAuditInterceptorFactory(std::string target, bool typed_messages)
      : target_(std::move(target)), typed_messages_(typed_messages) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return new ClientAuditInterceptor(info, target_, typed_messages_);
  }

 private:
  std::string target_;
  bool typed_messages_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeServerInterceptorFactory(
    std::string service, AuditSink* sink, std::shared_ptr<AuthzPolicyHolder> policy) {
  return std::make_unique<ServerAuditInterceptorFactory>(std::move(service), sink,
                                                         std::move(policy));
}

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> MakeClientInterceptorFactory(
    std::string target, bool typed_messages) {
  return std::make_unique<ClientAuditInterceptorFactory>(std::move(target), typed_messages);
}
}  // namespace shop
