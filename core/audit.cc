#include "core/audit.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>
#include <grpcpp/support/server_interceptor.h>

#include <atomic>

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
#include "core/spool.h"
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

std::atomic<AuditSink*> process_sink{nullptr};

struct ProcessIdentity {
  std::string service;
  std::string spiffe_id;
};
ProcessIdentity& Identity() {
  static ProcessIdentity* identity = new ProcessIdentity();
  return *identity;
}

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
    *event_.mutable_end_time() = Now();
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
    start_ = Now();
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
    *event_.mutable_end_time() = Now();
    event_.set_status_code(status.error_code());
    event_.set_status_message(status.error_message().substr(0, 1024));
    OrderIdFromError(status, event_);
    event_.set_caller(Identity().spiffe_id);
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

void SetProcessAuditSink(AuditSink* sink) { process_sink.store(sink); }
AuditSink* ProcessAuditSink() { return process_sink.load(std::memory_order_relaxed); }

void SetProcessIdentity(absl::string_view service, absl::string_view spiffe_id) {
  Identity().service = std::string(service);
  Identity().spiffe_id = std::string(spiffe_id);
}

AuditEvent NewBusinessEvent(absl::string_view name, absl::string_view order_id,
                            const std::map<std::string, std::string>& attributes) {
  AuditEvent event;
  event.set_event_id(NewTimeOrderedUuid());
  event.set_kind(shop::v1::EVENT_KIND_BUSINESS);
  event.set_service(Identity().service);
  event.set_name(std::string(name));
  event.set_order_id(std::string(order_id));
  *event.mutable_start_time() = Now();
  *event.mutable_end_time() = event.start_time();
  if (const TraceContext* trace = CurrentTrace()) {
    event.set_trace_id(trace->trace_id);
    event.set_parent_span_id(trace->span_id);
  } else {
    event.set_trace_id(NewTraceId());
  }
  event.set_span_id(NewSpanId());
  for (const auto& [key, value] : attributes) (*event.mutable_attributes())[key] = value;
  return event;
}

Span::Span(absl::string_view name, absl::string_view order_id) : previous_(CurrentTrace()) {
  if (previous_ != nullptr) {
    trace_.trace_id = previous_->trace_id;
    trace_.parent_span_id = previous_->span_id;
    trace_.tracestate = previous_->tracestate;
  } else {
    trace_.trace_id = NewTraceId();
  }
  trace_.span_id = NewSpanId();
  SetCurrentTrace(&trace_);
  active_ = ProcessAuditSink() != nullptr;
  if (!active_) return;
  event_.set_kind(shop::v1::EVENT_KIND_INTERNAL_SPAN);
  event_.set_service(Identity().service);
  event_.set_name(std::string(name));
  event_.set_order_id(std::string(order_id));
  event_.set_trace_id(trace_.trace_id);
  event_.set_span_id(trace_.span_id);
  event_.set_parent_span_id(trace_.parent_span_id);
  event_.set_caller(Identity().spiffe_id);
  *event_.mutable_start_time() = Now();
}

Span::~Span() {
  SetCurrentTrace(previous_);
  if (!active_) return;
  AuditSink* sink = ProcessAuditSink();
  if (sink == nullptr) return;
  event_.set_event_id(NewTimeOrderedUuid());
  *event_.mutable_end_time() = Now();
  sink->Emit(std::move(event_));
}

void Span::SetAttribute(absl::string_view key, absl::string_view value) {
  if (active_) (*event_.mutable_attributes())[std::string(key)] = std::string(value);
}

void Span::SetAttribute(absl::string_view key, int64_t value) {
  SetAttribute(key, std::to_string(value));
}

void Span::SetStatus(const absl::Status& status) {
  if (!active_) return;
  event_.set_status_code(static_cast<int>(status.code()));
  event_.set_status_message(std::string(status.message().substr(0, 1024)));
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeServerInterceptorFactory(std::string service, AuditSink* sink,
                             std::shared_ptr<AuthzPolicyHolder> policy) {
  return std::make_unique<ServerAuditInterceptorFactory>(std::move(service), sink,
                                                         std::move(policy));
}

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
MakeClientInterceptorFactory(std::string target, bool typed_messages) {
  return std::make_unique<ClientAuditInterceptorFactory>(std::move(target), typed_messages);
}

// ---------------------------------------------------------------------------
// AuditExporter

AuditExporter::AuditExporter(AuditExporterOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<AuditExporter>> AuditExporter::Start(
    AuditExporterOptions options) {
  // The exporter's channel has no audit interceptor: exporting must not
  // produce events of its own.
  std::shared_ptr<grpc::Channel> channel = options.channel;
  if (channel == nullptr) {
    auto made = MakeChannel(options.target, options.tls, ChannelOptions{.traced = false});
    if (!made.ok()) return made.status();
    channel = *made;
  }
  std::unique_ptr<Spool> spool;
  if (!options.spool_path.empty()) {
    auto opened = Spool::Open(options.spool_path);
    if (!opened.ok()) return opened.status();
    spool = std::move(*opened);
    if (spool->pending() > 0) {
      log::Info("audit spool has events from before; replaying",
                {{"path", spool->path()}, {"events", static_cast<int64_t>(spool->pending())}});
    }
  }
  std::unique_ptr<AuditExporter> exporter(new AuditExporter(std::move(options)));
  exporter->stub_holder_ = std::shared_ptr<AuditLogService::Stub>(
      AuditLogService::NewStub(channel).release());
  {
    absl::MutexLock lock(&exporter->mu_);
    exporter->spool_ = std::move(spool);
  }
  exporter->thread_ = std::thread([e = exporter.get()] { e->Run(); });
  return exporter;
}

AuditExporter::~AuditExporter() {
  Flush(options_.stop_flush_timeout);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  {
    absl::MutexLock lock(&mu_);
    // What is still in memory goes to disk, for the next start to replay.
    if (spool_ != nullptr) SpillLocked({});
  }
  LogStats("audit exporter stopped");
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
  ++flushing_;  // the sender stops lingering
  auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queue_.empty() && in_flight_ == 0 && (spool_ == nullptr || spool_->pending() == 0);
  };
  bool done = mu_.AwaitWithTimeout(absl::Condition(&drained), absl::FromChrono(timeout));
  --flushing_;
  return done;
}

AuditExporterStats AuditExporter::stats() const {
  absl::MutexLock lock(&mu_);
  AuditExporterStats s = stats_;
  s.queued = static_cast<int64_t>(queue_.size()) + in_flight_;
  s.spool_pending = spool_ != nullptr ? static_cast<int64_t>(spool_->pending()) : 0;
  return s;
}

void AuditExporter::LogStats(absl::string_view message) {
  AuditExporterStats s = stats();
  log::Info(message, {{"exported", s.exported},
                      {"spooled", s.spooled},
                      {"dropped", s.dropped},
                      {"failed_attempts", s.failed_attempts},
                      {"queued", s.queued},
                      {"spool_pending", s.spool_pending}});
}

void AuditExporter::SpillLocked(std::vector<AuditEvent> front) {
  std::vector<std::string> records;
  records.reserve(front.size() + queue_.size());
  for (const AuditEvent& event : front) records.push_back(event.SerializeAsString());
  for (const AuditEvent& event : queue_) records.push_back(event.SerializeAsString());
  if (records.empty()) return;
  queue_.clear();
  absl::Status written = spool_->Append(records);
  if (written.ok()) {
    stats_.spooled += static_cast<int64_t>(records.size());
  } else {
    stats_.dropped += static_cast<int64_t>(records.size());
    log::Error("cannot spool audit events; dropped",
               {{"error", std::string(written.message())},
                {"events", static_cast<int64_t>(records.size())}});
  }
}

void AuditExporter::Run() {
  std::chrono::milliseconds backoff(100);
  AuditExporterStats logged;
  auto last_log = std::chrono::steady_clock::now();
  constexpr size_t kMaxBatchBytes = 1 << 20;  // far below gRPC's 4 MiB message limit
  while (true) {
    std::vector<AuditEvent> batch;
    size_t peeked = 0;  // > 0: the batch comes from the spool
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty() || (spool_ != nullptr && spool_->pending() > 0);
      };
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(10));
      if (stopping_) return;
      // Let a small batch fill up for a moment (unless someone flushes).
      auto full = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || flushing_ > 0 || queue_.size() >= options_.max_batch ||
               (spool_ != nullptr && spool_->pending() > 0);
      };
      if (!queue_.empty() && !full()) {
        mu_.AwaitWithTimeout(absl::Condition(&full), absl::FromChrono(options_.linger));
      }
      if (stopping_) return;
      if (std::chrono::steady_clock::now() - last_log > std::chrono::seconds(10)) {
        last_log = std::chrono::steady_clock::now();
        if (stats_.exported != logged.exported || stats_.spooled != logged.spooled ||
            stats_.dropped != logged.dropped) {
          logged = stats_;
          mu_.Unlock();
          LogStats("audit exporter");
          mu_.Lock();
        }
      }
      if (spool_ != nullptr && queue_.size() > options_.spill_threshold) {
        log::Warn("audit log is slower than the mesh; queue moved to the spool",
                  {{"events", static_cast<int64_t>(queue_.size())}});
        SpillLocked({});
      }
      if (spool_ != nullptr && spool_->pending() > 0) {
        // Spooled events are older than anything queued: they go first.
        auto records = spool_->Peek(options_.max_batch, kMaxBatchBytes);
        if (!records.ok()) {
          log::Error("audit spool unreadable; its events are lost",
                     {{"error", std::string(records.status().message())},
                      {"events", static_cast<int64_t>(spool_->pending())}});
          stats_.dropped += static_cast<int64_t>(spool_->pending());
          std::string path = spool_->path();
          std::remove(path.c_str());
          auto fresh = Spool::Open(path);
          spool_ = fresh.ok() ? std::move(*fresh) : nullptr;
          continue;
        }
        peeked = records->size();
        for (const std::string& record : *records) {
          AuditEvent event;
          if (event.ParseFromString(record)) {
            batch.push_back(std::move(event));
          } else {
            ++stats_.dropped;
          }
        }
      } else {
        size_t bytes = 0;
        while (!queue_.empty() && batch.size() < options_.max_batch && bytes < kMaxBatchBytes) {
          bytes += queue_.front().ByteSizeLong();
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      in_flight_ = static_cast<int64_t>(batch.size());
    }
    SendResult sent = batch.empty() ? SendResult::kSent : Send(batch);
    absl::MutexLock lock(&mu_);
    in_flight_ = 0;
    if (sent != SendResult::kFailed) {
      if (sent == SendResult::kSent) {
        stats_.exported += static_cast<int64_t>(batch.size());
      } else {
        // Retrying a batch the log refuses would block every later event.
        stats_.dropped += static_cast<int64_t>(batch.size());
      }
      if (peeked > 0) {
        if (absl::Status s = spool_->Consume(peeked); !s.ok()) {
          log::Error("cannot advance the audit spool", {{"error", std::string(s.message())}});
        }
      }
      if (!log_reachable_) {
        log_reachable_ = true;
        log::Info("audit log reachable again", {{"spool_pending",
                                                 static_cast<int64_t>(spool_ ? spool_->pending() : 0)}});
      }
      backoff = std::chrono::milliseconds(100);
      continue;
    }
    ++stats_.failed_attempts;
    if (log_reachable_) {
      log_reachable_ = false;
      log::Warn("audit log unreachable; spooling events",
                {{"spool", spool_ ? spool_->path() : std::string("(memory only)")}});
    }
    if (spool_ != nullptr) {
      // Keep memory small and the events safe from a crash while the log is
      // away: the failed batch, then everything queued behind it.
      SpillLocked(peeked > 0 ? std::vector<AuditEvent>{} : std::move(batch));
    } else if (peeked == 0) {
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
    }
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    mu_.AwaitWithTimeout(absl::Condition(&stop), absl::FromChrono(backoff));
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

AuditExporter::SendResult AuditExporter::Send(std::vector<AuditEvent>& batch) {
  auto* stub = static_cast<AuditLogService::Stub*>(stub_holder_.get());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + options_.ingest_timeout);
  shop::v1::IngestResponse response;
  auto writer = stub->Ingest(&ctx, &response);
  shop::v1::IngestRequest request;
  request.mutable_events()->Reserve(static_cast<int>(batch.size()));
  for (auto& event : batch) *request.add_events() = std::move(event);
  bool wrote = writer->Write(request);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  batch.clear();
  for (auto& event : *request.mutable_events()) batch.push_back(std::move(event));
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    log::Error("audit log refused a batch as malformed; dropped",
               {{"error", status.error_message()},
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
