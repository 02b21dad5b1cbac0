#include "services/bridge/bridge_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/grpc/server.h"
#include "core/listen_address.h"
#include "core/log.h"
#include "core/span.h"
#include "core/status.h"
#include "services/bridge/http_errors.h"
#include "services/bridge/openapi.h"
#include "services/bridge/transcoder.h"

namespace shop::bridge {
namespace {

constexpr char kJson[] = "application/json";
constexpr char kNdjson[] = "application/x-ndjson";

HeaderList ToHeaderList(const httplib::Headers& headers) {
  return HeaderList(headers.begin(), headers.end());
}

std::string HeaderValue(const httplib::Request& request, const char* name) {
  return request.has_header(name) ? request.get_header_value(name) : "";
}

bool IsJsonContentType(absl::string_view value) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, ';');
  if (absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0])) != kJson) return false;
  for (size_t i = 1; i < parts.size(); ++i) {
    absl::string_view parameter = absl::StripAsciiWhitespace(parts[i]);
    if (absl::StartsWithIgnoreCase(parameter, "charset=")) {
      std::string charset = absl::AsciiStrToLower(parameter.substr(8));
      charset.erase(std::remove(charset.begin(), charset.end(), '"'), charset.end());
      if (charset != "utf-8" && charset != "utf8") return false;
    }
  }
  return true;
}

// The HTTP status and body code of an error the bridge raises itself.
struct LocalError {
  int http_status;
  absl::Status status;
};

LocalError FromStatus(const absl::Status& status) {
  return {HttpStatusFromCode(static_cast<int>(status.code())), status};
}

absl::string_view PathOf(const httplib::Request& request) {
  const absl::string_view target = request.target;
  return target.substr(0, target.find('?'));
}

bool IsPreflight(const httplib::Request& request) {
  return request.method == "OPTIONS" && request.has_header("Origin") &&
         request.has_header("Access-Control-Request-Method");
}

// Health probes would flood the log, and a preflight is the browser asking,
// not the client calling: neither gets a span.
bool IsTraced(const httplib::Request& request) {
  return PathOf(request) != kHealthPath && !IsPreflight(request);
}

std::string PeerAddress(const httplib::Request& request) {
  if (request.remote_addr.empty()) return "";
  const bool ipv6 = request.remote_addr.find(':') != std::string::npos;
  return ipv6 ? absl::StrCat("[", request.remote_addr, "]:", request.remote_port)
              : absl::StrCat(request.remote_addr, ":", request.remote_port);
}

// The bridge's SERVER span of one request (forwarding.h), filled in while it
// is served. It ends, and goes to the process audit sink, when its last
// holder lets go: the handler, or for a stream the stream's state once the
// response is written. A request the handler never answered (it threw) ends
// as INTERNAL, like its response.
class RequestSpan {
 public:
  RequestSpan(const httplib::Request& request, const CallTrace& trace, bool traced)
      : traced_(traced) {
    span_.trace = trace;
    span_.start_time = absl::Now();
    span_.http_method = request.method;
    span_.path = std::string(PathOf(request));
    span_.peer_address = PeerAddress(request);
    span_.user_agent = HeaderValue(request, "User-Agent");
  }
  ~RequestSpan() {
    AuditSink* sink = ProcessAuditSink();
    if (!traced_ || sink == nullptr) return;
    if (!answered_) {
      span_.http_status = 500;
      span_.code = static_cast<int>(absl::StatusCode::kInternal);
      span_.message = "internal error in the bridge";
    }
    span_.end_time = absl::Now();
    sink->Emit(ServerSpanEvent(span_));
  }
  RequestSpan(const RequestSpan&) = delete;
  RequestSpan& operator=(const RequestSpan&) = delete;

  // `route` is a template or the bridge's own path, never the request's.
  void SetRoute(absl::string_view route, absl::string_view grpc_method) {
    span_.route = std::string(route);
    span_.grpc_method = std::string(grpc_method);
  }
  void SetOrderId(std::string order_id) { span_.order_id = std::move(order_id); }
  // The gRPC code and message of the outcome (OK unless set).
  void SetOutcome(int code, absl::string_view message) {
    span_.code = code;
    span_.message = std::string(message);
  }
  void SetHttpStatus(int http_status) {
    span_.http_status = http_status;
    answered_ = true;
  }

  const std::string& grpc_method() const { return span_.grpc_method; }
  absl::Time start_time() const { return span_.start_time; }

 private:
  HttpServerSpan span_;
  const bool traced_;
  bool answered_ = false;
};

}  // namespace

struct BridgeServer::Impl {
  BridgeOptions options;
  std::shared_ptr<const RouteTable> routes;
  std::unique_ptr<Backends> backends;
  CorsPolicy cors;
  std::string openapi;
  httplib::Server server;
  ActiveCalls active;
  std::atomic<bool> draining{false};

  void Handle(const httplib::Request& request, httplib::Response& response);
  void Serve(const httplib::Request& request, httplib::Response& response, const CallTrace& trace,
             const std::shared_ptr<RequestSpan>& span);
  void CallBackend(const Route& route, const std::string& payload, const OutgoingCall& outgoing,
                   httplib::Response& response, RequestSpan& span);
  void Stream(const Route& route, const std::string& payload, const OutgoingCall& outgoing,
              httplib::Response& response, std::shared_ptr<RequestSpan> span);
  void AddCorsHeaders(const httplib::Request& request, httplib::Response& response) const;
};

namespace {

// The error response, and its code and message as the span's outcome.
void SetError(httplib::Response& response, RequestSpan& span, int http_status,
              const google::rpc::Status& status) {
  response.status = http_status;
  response.set_content(ErrorJson(status), kJson);
  span.SetOutcome(status.code(), status.message());
}

void SetLocalError(httplib::Response& response, RequestSpan& span, const LocalError& error) {
  SetError(response, span, error.http_status, RpcStatusFromAbsl(error.status));
}

void AddHeaders(httplib::Response& response, const HeaderList& headers) {
  for (const auto& [name, value] : headers) response.set_header(name, value);
}

}  // namespace

void BridgeServer::Impl::AddCorsHeaders(const httplib::Request& request,
                                        httplib::Response& response) const {
  const std::string origin = HeaderValue(request, "Origin");
  if (origin.empty() || !cors.enabled()) return;
  std::vector<std::string> exposed;
  for (const auto& [name, value] : response.headers) {
    if (absl::EqualsIgnoreCase(name, "traceparent") ||
        absl::StartsWithIgnoreCase(name, "Grpc-Metadata-") ||
        absl::StartsWithIgnoreCase(name, "Grpc-Trailer-")) {
      exposed.push_back(name);
    }
  }
  AddHeaders(response, cors.ResponseHeaders(origin, exposed));
}

void BridgeServer::Impl::Handle(const httplib::Request& request, httplib::Response& response) {
  const CallTrace trace = ContinueOrStartTrace(ToHeaderList(request.headers));
  log::SetThreadTraceId(trace.trace_id);
  auto span = std::make_shared<RequestSpan>(request, trace, IsTraced(request));
  Serve(request, response, trace, span);
  response.set_header("traceparent", trace.traceparent);
  AddCorsHeaders(request, response);
  span->SetHttpStatus(response.status);
  log::Info("http request",
            {{"method", SafeText(request.method, 200)},
             {"path", SafeText(PathOf(request), 200)},
             {"status", response.status},
             {"grpc_method", span->grpc_method()},
             {"duration_ms",
              static_cast<int64_t>(absl::ToInt64Milliseconds(absl::Now() - span->start_time()))}});
  log::SetThreadTraceId("");
}

void BridgeServer::Impl::Serve(const httplib::Request& request, httplib::Response& response,
                               const CallTrace& trace, const std::shared_ptr<RequestSpan>& span) {
  const absl::string_view target = request.target;
  const size_t question = target.find('?');
  const absl::string_view raw_path = target.substr(0, question);
  const absl::string_view raw_query =
      question == absl::string_view::npos ? absl::string_view() : target.substr(question + 1);

  size_t header_bytes = 0;
  for (const auto& [name, value] : request.headers) header_bytes += name.size() + value.size() + 4;
  if (header_bytes > options.max_header_bytes) {
    return SetLocalError(
        response, *span,
        {431, absl::ResourceExhaustedError(
                  absl::StrCat("request headers exceed ", options.max_header_bytes, " bytes"))});
  }

  // The bridge's own endpoints (no annotated route may shadow them, see routes.h).
  if (raw_path == kHealthPath || raw_path == kOpenApiPath) {
    if (request.method != "GET" && request.method != "HEAD") {
      response.set_header("Allow", "GET");
      return SetLocalError(response, *span,
                           {405, absl::UnimplementedError(
                                     absl::StrCat("method ", request.method, " is not allowed for ",
                                                  raw_path, "; allowed: GET"))});
    }
    if (raw_path == kOpenApiPath) {
      span->SetRoute(kOpenApiPath, "");
      response.status = 200;
      return response.set_content(openapi, kJson);
    }
    response.status = draining ? 503 : 200;
    return response.set_content(
        draining ? R"({"status":"NOT_SERVING"})" : R"({"status":"SERVING"})", kJson);
  }

  const bool preflight = IsPreflight(request);
  absl::StatusOr<RouteMatch> match = routes->Match(
      preflight ? request.get_header_value("Access-Control-Request-Method") : request.method,
      raw_path);
  if (!match.ok()) return SetLocalError(response, *span, FromStatus(match.status()));
  if (preflight) {
    std::vector<std::string> allowed;
    const std::string origin = request.get_header_value("Origin");
    if (!cors.Allows(origin)) {
      return SetLocalError(response, *span,
                           {403, absl::PermissionDeniedError(absl::StrCat(
                                     "origin ", SafeText(origin, 200), " is not allowed"))});
    }
    // Tell the browser every method the path accepts; it refuses the rest.
    absl::StatusOr<RouteMatch> any = routes->Match("", raw_path);
    if (any.ok()) allowed = any->allowed_methods;
    response.status = 204;
    return AddHeaders(
        response, cors.PreflightHeaders(origin, allowed,
                                        HeaderValue(request, "Access-Control-Request-Headers")));
  }
  if (match->route == nullptr) {
    response.set_header("Allow", absl::StrJoin(match->allowed_methods, ", "));
    return SetLocalError(response, *span,
                         {405, absl::UnimplementedError(absl::StrCat(
                                   "method ", SafeText(request.method, 200), " is not allowed for ",
                                   SafeText(raw_path, 200),
                                   "; allowed: ", absl::StrJoin(match->allowed_methods, ", ")))});
  }
  const Route& route = *match->route;
  span->SetRoute(route.path.text(), route.grpc_method);
  span->SetOrderId(PathFieldValue(route, match->bindings, "order_id"));
  if (draining) {
    return SetLocalError(response, *span,
                         FromStatus(absl::UnavailableError("the bridge is shutting down")));
  }

  if (!absl::StripAsciiWhitespace(request.body).empty() &&
      !IsJsonContentType(HeaderValue(request, "Content-Type"))) {
    return SetLocalError(response, *span,
                         {415, absl::InvalidArgumentError(absl::StrCat(
                                   "request bodies must be application/json, not \"",
                                   SafeText(HeaderValue(request, "Content-Type"), 200), "\""))});
  }
  absl::StatusOr<QueryParams> query = ParseQueryString(raw_query);
  if (!query.ok()) return SetLocalError(response, *span, FromStatus(query.status()));
  const HeaderList headers = ToHeaderList(request.headers);
  absl::StatusOr<OutgoingCall> outgoing = PrepareOutgoingCall(headers, trace, options.forwarding);
  if (!outgoing.ok()) return SetLocalError(response, *span, FromStatus(outgoing.status()));

  std::unique_ptr<google::protobuf::Message> message = NewMessage(route.method->input_type());
  if (message == nullptr) {
    return SetLocalError(response, *span,
                         FromStatus(absl::InternalError("request type is not compiled in")));
  }
  HttpRequestParts parts{request.body, *std::move(query), std::nullopt};
  if (request.has_header("Idempotency-Key")) {
    parts.idempotency_key = request.get_header_value("Idempotency-Key");
  }
  if (absl::Status s = BuildRequestMessage(route, match->bindings, parts, *message); !s.ok()) {
    return SetLocalError(response, *span, FromStatus(s));
  }
  if (backends->ChannelFor(route.method->service()->full_name()) == nullptr) {
    return SetLocalError(response, *span,
                         FromStatus(absl::UnavailableError(absl::StrCat(
                             "no backend for ", route.method->service()->full_name()))));
  }
  const std::string payload = message->SerializeAsString();
  if (route.server_streaming) return Stream(route, payload, *outgoing, response, span);
  return CallBackend(route, payload, *outgoing, response, *span);
}

void BridgeServer::Impl::CallBackend(const Route& route, const std::string& payload,
                                     const OutgoingCall& outgoing, httplib::Response& response,
                                     RequestSpan& span) {
  BackendCall call(backends->ChannelFor(route.method->service()->full_name()), route.grpc_method,
                   outgoing, &active);
  std::string bytes;
  const grpc::Status status = call.Unary(payload, &bytes);
  AddHeaders(response,
             ResponseHeadersFromMetadata(call.InitialMetadata(), call.TrailingMetadata()));
  if (!status.ok()) {
    return SetError(
        response, span, HttpStatusFromCode(status.error_code()),
        RpcStatusFromGrpc(status.error_code(), status.error_message(), status.error_details()));
  }
  std::unique_ptr<google::protobuf::Message> message = NewMessage(route.method->output_type());
  if (message == nullptr || !message->ParseFromString(bytes)) {
    return SetLocalError(response, span,
                         FromStatus(absl::InternalError("the backend's response does not parse")));
  }
  absl::StatusOr<std::string> json = ResponseToJson(route, *message);
  if (!json.ok()) return SetLocalError(response, span, FromStatus(json.status()));
  response.status = 200;
  response.set_content(*json, kJson);
}

namespace {

// A stream in flight, shared by the handler and the chunk provider.
struct StreamState {
  const Route* route;
  std::unique_ptr<BackendCall> call;
  std::string first;  // the first message, read before the headers go out
  bool first_sent = false;
  // Ends when the last holder of the state lets go, after the last chunk.
  std::shared_ptr<RequestSpan> span;
  bool ended = false;  // the backend's status, or a rendering error, was sent
};

absl::StatusOr<std::string> RenderStreamed(const Route& route, const std::string& bytes) {
  std::unique_ptr<google::protobuf::Message> message = NewMessage(route.method->output_type());
  if (message == nullptr || !message->ParseFromString(bytes)) {
    return absl::InternalError("a streamed message from the backend does not parse");
  }
  // As grpc-gateway: each line is {"result": <message>}, a failure {"error": ...}.
  absl::StatusOr<std::string> json = ResponseToJson(route, *message);
  if (!json.ok()) return json.status();
  return absl::StrCat("{\"result\":", *json, "}");
}

std::string ErrorLine(const google::rpc::Status& status) {
  return absl::StrCat("{\"error\":", ErrorJson(status), "}\n");
}

}  // namespace

void BridgeServer::Impl::Stream(const Route& route, const std::string& payload,
                                const OutgoingCall& outgoing, httplib::Response& response,
                                std::shared_ptr<RequestSpan> span) {
  auto state = std::make_shared<StreamState>();
  state->route = &route;
  state->span = std::move(span);
  state->call =
      std::make_unique<BackendCall>(backends->ChannelFor(route.method->service()->full_name()),
                                    route.grpc_method, outgoing, &active);
  state->call->StartStream(payload);
  // Until a first message arrives the status can still say how it went.
  const bool has_first = state->call->Read(&state->first);
  if (!has_first) {
    const grpc::Status status = state->call->Finish();
    AddHeaders(response, ResponseHeadersFromMetadata(state->call->InitialMetadata(),
                                                     state->call->TrailingMetadata()));
    if (!status.ok()) {
      return SetError(
          response, *state->span, HttpStatusFromCode(status.error_code()),
          RpcStatusFromGrpc(status.error_code(), status.error_message(), status.error_details()));
    }
    response.status = 200;
    return response.set_content("", kNdjson);
  }
  AddHeaders(response, ResponseHeadersFromMetadata(state->call->InitialMetadata(), {}));
  response.status = 200;
  response.set_chunked_content_provider(
      kNdjson,
      [state](size_t, httplib::DataSink& sink) {
        std::string bytes;
        if (!state->first_sent) {
          state->first_sent = true;
          bytes = std::move(state->first);
        } else if (!state->call->Read(&bytes)) {
          const grpc::Status status = state->call->Finish();
          state->ended = true;
          state->span->SetOutcome(status.error_code(), status.error_message());
          if (!status.ok()) {
            const std::string line = ErrorLine(RpcStatusFromGrpc(
                status.error_code(), status.error_message(), status.error_details()));
            if (!sink.write(line.data(), line.size())) return false;
          }
          sink.done();
          return true;
        }
        absl::StatusOr<std::string> json = RenderStreamed(*state->route, bytes);
        if (!json.ok()) {
          state->call->Cancel();
          state->ended = true;
          state->span->SetOutcome(static_cast<int>(json.status().code()), json.status().message());
          const std::string line = ErrorLine(RpcStatusFromAbsl(json.status()));
          sink.write(line.data(), line.size());
          sink.done();
          return true;
        }
        json->push_back('\n');
        // False when the client has gone: the releaser then cancels the call.
        return sink.write(json->data(), json->size());
      },
      [state](bool) {
        state->call.reset();
        if (!state->ended) {
          state->span->SetOutcome(grpc::StatusCode::CANCELLED,
                                  "the client went away before the stream ended");
        }
      });
}

absl::StatusOr<std::unique_ptr<BridgeServer>> BridgeServer::Start(
    const BridgeOptions& options, std::shared_ptr<const RouteTable> routes,
    std::unique_ptr<Backends> backends) {
  SHOP_ASSIGN_OR_RETURN(CorsPolicy cors, CorsPolicy::Create(options.cors_origins));
  if (options.threads < 1) return absl::InvalidArgumentError("--threads must be at least 1");
  if (options.forwarding.default_timeout <= absl::ZeroDuration() ||
      options.forwarding.max_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--default_timeout and --max_timeout must be positive");
  }
  SHOP_ASSIGN_OR_RETURN(ListenAddress listen, ParseListenAddress(options.listen, "--listen"));
  const std::string& host = listen.host;
  const int port = listen.port;

  std::unique_ptr<BridgeServer> server(new BridgeServer);
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.options = options;
  impl.routes = std::move(routes);
  impl.backends = std::move(backends);
  impl.cors = std::move(cors);
  impl.openapi = OpenApiJson(*impl.routes);

  httplib::Server& http = impl.server;
  const int threads = options.threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(options.max_body_bytes);
  http.set_read_timeout(absl::ToChronoSeconds(options.read_timeout));
  http.set_write_timeout(absl::ToChronoSeconds(options.write_timeout));
  http.set_keep_alive_timeout(absl::ToInt64Seconds(options.keep_alive_timeout));
  auto handler = [&impl](const httplib::Request& request, httplib::Response& response) {
    impl.Handle(request, response);
  };
  http.Get(".*", handler);
  http.Post(".*", handler);
  http.Put(".*", handler);
  http.Patch(".*", handler);
  http.Delete(".*", handler);
  http.Options(".*", handler);
  // Errors cpp-httplib answers itself (bad request line, a header line over
  // its limit, 413, 414, unknown methods) get the same JSON error body.
  const size_t max_body = options.max_body_bytes;
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [&impl, max_body](const httplib::Request& request, httplib::Response& response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        absl::Status status;
        switch (response.status) {
          case 413:
            status = absl::ResourceExhaustedError(
                absl::StrCat("the request body is larger than ", max_body, " bytes"));
            break;
          case 414:
            status = absl::InvalidArgumentError("the request URI is too long");
            break;
          case 400:
            status = absl::InvalidArgumentError(
                "malformed HTTP request (bad request line or method, or a header line too long)");
            break;
          default:
            status =
                absl::Status(absl::StatusCode::kUnknown, absl::StrCat("HTTP ", response.status));
            break;
        }
        // The handler never saw this request: it gets its trace and span
        // here (which starts now, not when the request arrived).
        const CallTrace trace = ContinueOrStartTrace(ToHeaderList(request.headers));
        RequestSpan span(request, trace, IsTraced(request));
        SetError(response, span, response.status, RpcStatusFromAbsl(status));
        span.SetHttpStatus(response.status);
        response.set_header("traceparent", trace.traceparent);
        impl.AddCorsHeaders(request, response);
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& response,
                                const std::exception_ptr&) {
    // The request's span ended with the handler, as INTERNAL.
    log::Error("unexpected exception while serving a request");
    response.status = 500;
    response.set_content(
        ErrorJson(RpcStatusFromAbsl(absl::InternalError("internal error in the bridge"))), kJson);
  });

  server->port_ =
      port == 0 ? http.bind_to_any_port(host) : (http.bind_to_port(host, port) ? port : -1);
  if (server->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  server->thread_ = std::thread([&http] { http.listen_after_bind(); });
  // stop() is a no-op until the accept loop runs: wait for it, briefly.
  for (int i = 0; i < 5000 && !http.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!options.port_file.empty())
    SHOP_RETURN_IF_ERROR(WritePortFile(options.port_file, server->port_));
  log::Info(
      "JSON bridge serving",
      {{"port", server->port_}, {"routes", static_cast<int64_t>(impl.routes->routes().size())}});
  return server;
}

void BridgeServer::Shutdown(absl::Duration drain) {
  if (shut_down_ || impl_ == nullptr) return;
  shut_down_ = true;
  impl_->draining = true;
  impl_->server.stop();
  if (!impl_->active.WaitIdle(drain)) {
    log::Warn("cancelling backend calls still running after the drain time",
              {{"calls", impl_->active.count()}});
    impl_->active.CancelAll();
  }
  if (thread_.joinable()) thread_.join();
}

BridgeServer::~BridgeServer() { Shutdown(absl::ZeroDuration()); }

}  // namespace shop::bridge
