// fakepay: an HTTPS stand-in for an external Stripe-like card processor.
//
// This file is the thin HTTP layer: TLS, authentication, form decoding,
// routing, logging, fault injection at the connection level and process
// lifecycle. All payment semantics live in ledger.{h,cc}; which fault a
// request gets is decided in faults.{h,cc}.

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tools/fakepay/faults.h"
#include "tools/fakepay/ledger.h"
#include "tools/fakepay/webhooks.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:8443",
          "host:port to listen on; port 0 picks a free port (see --port_file)");
ABSL_FLAG(std::string, cert, "", "PEM server certificate (chain); required");
ABSL_FLAG(std::string, key, "", "PEM private key for --cert; required");
ABSL_FLAG(std::string, state_file, "",
          "append-only JSON-lines journal; replayed on start to restore "
          "state. Empty: keep state in memory only");
ABSL_FLAG(std::string, webhook_url, "",
          "https URL that receives signed webhook events (Stripe-Signature "
          "header, signed with SHOP_FAKEPAY_WEBHOOK_SECRET); empty: send no "
          "webhooks");
ABSL_FLAG(std::string, webhook_ca, "",
          "PEM CA file that verifies --webhook_url's certificate; required "
          "with --webhook_url");
ABSL_FLAG(std::string, port_file, "",
          "if set, the bound port is written here (atomically) once the "
          "listener is ready");

// Fault injection; all off by default. Each can be changed at run time
// through POST /v1/test/faults.
ABSL_FLAG(int, fault_latency_ms, 0,
          "delay added before every /v1 request except /v1/test/* (0-60000)");
ABSL_FLAG(int, fault_500_percent, 0,
          "percent of mutating payment requests answered 500 without being "
          "applied");
ABSL_FLAG(int, fault_429_percent, 0,
          "percent of mutating payment requests answered 429 (rate limited) "
          "without being applied");
ABSL_FLAG(int, fault_retry_after_seconds, 1, "Retry-After sent with injected 429s (0-3600)");
ABSL_FLAG(int, fault_timeout_percent, 0,
          "percent of mutating payment requests applied and then never "
          "answered (the connection is held until the client gives up)");
ABSL_FLAG(int, fault_reset_percent, 0,
          "percent of mutating payment requests applied and then answered "
          "with a TCP reset instead of a response");
ABSL_FLAG(std::optional<uint64_t>, fault_seed, std::nullopt,
          "seed for the fault draws, for reproducible runs; default random "
          "(the seed in use is logged at startup)");

namespace fakepay {
namespace {

// The secrets come from the environment, never from flags: every local user
// can read a command line (/proc/<pid>/cmdline), while /proc/<pid>/environ is
// readable by the process's owner only.
constexpr char kApiKeyVariable[] = "SHOP_FAKEPAY_API_KEY";  // clients send it as a Bearer token
constexpr char kWebhookSecretVariable[] = "SHOP_FAKEPAY_WEBHOOK_SECRET";  // signs the webhooks
// The flags they replace, refused on the command line with a pointer to the
// variable (rather than abseil's bare "unknown flag").
constexpr std::pair<const char*, const char*> kSecretFlags[] = {
    {"api_key", kApiKeyVariable}, {"webhook_secret", kWebhookSecretVariable}};

using Json = nlohmann::ordered_json;
using httplib::Request;
using httplib::Response;
using HandlerResponse = httplib::Server::HandlerResponse;

constexpr size_t kMaxBodyBytes = size_t{64} * 1024;

// Marks a response as an injected fault, for the request log. On 500s and
// 429s it also tells a test harness the error was deliberate; on timeouts
// and resets it never reaches the wire, because the connection is gone.
constexpr char kFaultHeader[] = "Fakepay-Fault";

// How long a "timeout" fault holds a connection if neither the client nor a
// shutdown ends the wait first. Longer than any sane client timeout.
constexpr absl::Duration kTimeoutHold = absl::Seconds(120);

// ---------------------------------------------------------------------------
// Logging: one JSON object per line on stderr.
// ---------------------------------------------------------------------------

void Log(absl::string_view level, absl::string_view msg, const Json& fields = Json::object()) {
  Json line = {{"ts", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone())},
               {"level", level},
               {"msg", msg}};
  for (const auto& [name, value] : fields.items()) line[name] = value;
  std::string text = line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  // One fwrite per line under a lock keeps concurrent lines from mixing.
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(text.data(), 1, text.size(), stderr);
}

int Fail(absl::string_view message) {
  Log("fatal", message);
  return 1;
}

// Paths are client-controlled; a long digit run could be a card number
// someone pasted into a URL, and must not reach the logs.
std::string RedactDigitRuns(absl::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (!absl::ascii_isdigit(s[i])) {
      out.push_back(s[i++]);
      continue;
    }
    size_t j = i;
    while (j < s.size() && absl::ascii_isdigit(s[j])) ++j;
    out += j - i >= 12 ? std::string("[redacted]") : std::string(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string StringField(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return "";
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// Finds the payment intent a response is about, for the request log.
std::string PaymentIntentOf(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return "";
  std::string object = StringField(j, "object");
  if (object == "payment_intent") return StringField(j, "id");
  if (object == "refund") return StringField(j, "payment_intent");
  auto error = j.find("error");
  if (error == j.end() || !error->is_object()) return "";
  auto pi = error->find("payment_intent");
  return pi == error->end() ? "" : StringField(*pi, "id");
}

// Deliberately logs no request headers (API key) and no parameters (card
// data). For a timeout or reset fault, `status` is the answer that was
// withheld.
void LogRequest(const Request& req, const Response& res) {
  std::string pi = PaymentIntentOf(res.body);
  Json fields = {{"method", req.method},
                 {"path", RedactDigitRuns(req.path)},
                 {"status", res.status},
                 {"payment_intent", pi.empty() ? Json() : Json(pi)},
                 {"idempotent_replayed", res.has_header("Idempotent-Replayed")},
                 {"remote_addr", req.remote_addr}};
  if (res.has_header(kFaultHeader)) {
    fields["fault"] = res.get_header_value(kFaultHeader);
  }
  Log("info", "request", fields);
}

// ---------------------------------------------------------------------------
// Request plumbing.
// ---------------------------------------------------------------------------

void Send(const Result& result, Response* res) {
  res->status = result.http_status;
  if (result.idempotent_replayed) {
    res->set_header("Idempotent-Replayed", "true");
  }
  res->set_content(result.body, "application/json");
}

// Compares digests so the time taken does not depend on where the presented
// key first differs from the real one.
bool SecretEquals(absl::string_view a, absl::string_view b) {
  unsigned char da[EVP_MAX_MD_SIZE];
  unsigned char db[EVP_MAX_MD_SIZE];
  unsigned int la = 0;
  unsigned int lb = 0;
  if (EVP_Digest(a.data(), a.size(), da, &la, EVP_sha256(), nullptr) != 1 ||
      EVP_Digest(b.data(), b.size(), db, &lb, EVP_sha256(), nullptr) != 1) {
    return false;
  }
  return la == lb && CRYPTO_memcmp(da, db, la) == 0;
}

// Accepts "Bearer <key>", and also "Basic base64(<key>:)" because that is
// what Stripe's own curl examples (`curl -u sk_test_...:`) send.
bool Authorized(const Request& req, const std::string& api_key) {
  // get_header_value returns by value; keep the string alive.
  const std::string header_value = req.get_header_value("Authorization");
  absl::string_view header = header_value;
  std::string presented;
  if (absl::StartsWithIgnoreCase(header, "Bearer ")) {
    presented = std::string(absl::StripAsciiWhitespace(header.substr(7)));
  } else if (absl::StartsWithIgnoreCase(header, "Basic ")) {
    std::string decoded;
    if (!absl::Base64Unescape(absl::StripAsciiWhitespace(header.substr(6)), &decoded)) {
      return false;
    }
    presented = decoded.substr(0, decoded.find(':'));
  } else {
    return false;
  }
  return !presented.empty() && SecretEquals(presented, api_key);
}

Result Unauthorized(const Request& req) {
  // Never echo the presented key, not even partially.
  return ErrorResult(401, "invalid_request_error",
                     req.has_header("Authorization")
                         ? "Invalid API Key provided."
                         : "You did not provide an API key. Provide it in the "
                           "Authorization header as 'Bearer <key>'.",
                     "api_key_invalid");
}

bool IsFormContentType(absl::string_view content_type) {
  absl::string_view media_type = content_type.substr(0, content_type.find(';'));
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(media_type),
                                "application/x-www-form-urlencoded");
}

using FormOp = std::function<Result(const Params&, absl::string_view key)>;

// Decodes a POST body and runs `op`. The body is parsed here rather than
// via httplib's req.params so that query-string parameters cannot leak into
// a mutation and malformed encodings get a clean 400.
void HandleForm(const Request& req, Response& res, const FormOp& op) {
  if (!req.body.empty() && !IsFormContentType(req.get_header_value("Content-Type"))) {
    Send(ErrorResult(400, "invalid_request_error",
                     "Request bodies must be "
                     "application/x-www-form-urlencoded."),
         &res);
    return;
  }
  absl::StatusOr<Params> params = ParseForm(req.body);
  if (!params.ok()) {
    Send(ErrorResult(400, "invalid_request_error", params.status().message()), &res);
    return;
  }
  Send(op(*params, req.get_header_value("Idempotency-Key")), &res);
}

using Handler = httplib::Server::Handler;

// Wraps a /v1 handler with the API key check. This runs inside the handler
// rather than in httplib's pre-routing hook because the hook fires before
// the request body is read; answering there would leave the body in the
// stream, where a kept-alive connection would parse it as the next request.
Handler Authenticated(const std::string& api_key, Handler handler) {
  return [api_key, handler = std::move(handler)](const Request& req, Response& res) {
    if (!Authorized(req, api_key)) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"fakepay\"");
      Send(Unauthorized(req), &res);
      return;
    }
    handler(req, res);
  };
}

Handler FormRoute(
    const std::function<Result(const Request&, const Params&, absl::string_view key)>& op) {
  return [op](const Request& req, Response& res) {
    HandleForm(req, res, [&](const Params& p, absl::string_view key) { return op(req, p, key); });
  };
}

// ---------------------------------------------------------------------------
// Fault injection at the connection level.
// ---------------------------------------------------------------------------

// Wakes handlers that wait on purpose (injected latency, held "timeout"
// requests) when the server shuts down: httplib's stop() joins its worker
// threads, so a handler still waiting would hold up SIGTERM for as long as
// it waits. An eventfd rather than a condition variable, so that a single
// poll() can watch the client's socket at the same time.
class ShutdownNotice {
 public:
  enum class Wake { kTimedOut, kShutdown, kPeerClosed };

  static std::unique_ptr<ShutdownNotice> Create() {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd < 0 ? nullptr : std::unique_ptr<ShutdownNotice>(new ShutdownNotice(fd));
  }

  ShutdownNotice(const ShutdownNotice&) = delete;
  ShutdownNotice& operator=(const ShutdownNotice&) = delete;
  ~ShutdownNotice() { close(fd_); }

  // The eventfd stays readable once written (nobody reads it), so every
  // later Wait() returns at once as well.
  void Notify() {
    uint64_t one = 1;
    // Can only fail if the counter would overflow, i.e. it is already set.
    (void)!write(fd_, &one, sizeof(one));
  }

  // Waits until `timeout` passes or shutdown is notified, and, if `peer_fd`
  // is a connected socket, until its peer closes or resets the connection
  // (POLLRDHUP: the peer's FIN; a client that gives up closes its socket).
  Wake Wait(absl::Duration timeout, int peer_fd = -1) const {
    const absl::Time deadline = absl::Now() + timeout;
    // poll() skips entries with a negative descriptor.
    pollfd fds[2] = {{fd_, POLLIN, 0}, {peer_fd, POLLRDHUP, 0}};
    while (true) {
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return Wake::kTimedOut;
      int n = poll(
          fds, 2,
          static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)))));
      if (n < 0 && errno == EINTR) continue;
      // A failing poll() cannot wait; returning early only shortens a
      // deliberate delay.
      if (n < 0) return Wake::kTimedOut;
      if (fds[0].revents != 0) return Wake::kShutdown;
      if (fds[1].revents != 0) return Wake::kPeerClosed;
    }
  }

 private:
  explicit ShutdownNotice(int fd) : fd_(fd) {}

  const int fd_;
};

absl::string_view WakeName(ShutdownNotice::Wake wake) {
  switch (wake) {
    case ShutdownNotice::Wake::kTimedOut:
      return "hold_expired";
    case ShutdownNotice::Wake::kShutdown:
      return "shutdown";
    case ShutdownNotice::Wake::kPeerClosed:
      return "client_closed";
  }
  return "";
}

// cpp-httplib 0.11 does not give handlers the socket, but on a TLS server
// every Request carries its SSL*, and SSL_get_fd() is the TCP socket under
// it. The two functions below act on that socket and deliberately leave the
// descriptor open: httplib owns it and closes it after the handler returns,
// and closing it here would let the next accept() reuse the number while
// httplib still writes to it. Afterwards httplib's attempt to write the
// response fails, so no byte of it reaches the client, and httplib closes
// the socket as after any failed write.
int SocketOf(const Request& req) { return req.ssl == nullptr ? -1 : SSL_get_fd(req.ssl); }

// Sends a TCP RST now, so the client sees "connection reset by peer" rather
// than any HTTP status. On Linux, connect() with AF_UNSPEC disconnects a TCP
// socket with an active reset (the RST that close() sends with SO_LINGER
// {on, 0}) while keeping the descriptor, see above.
void ResetConnection(int fd) {
  sockaddr unspec = {};
  unspec.sa_family = AF_UNSPEC;
  if (connect(fd, &unspec, sizeof(unspec)) == 0) return;
  // Fallback where AF_UNSPEC disconnect is unsupported: the client sees an
  // EOF now, and an RST once httplib closes the lingerless socket.
  Log("warning", "could not reset the connection; closing it instead",
      {{"error", std::strerror(errno)}});
  linger no_linger = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
  shutdown(fd, SHUT_RDWR);
}

Json FaultLogFields(const Request& req, FaultKind kind) {
  return {{"kind", FaultKindName(kind)},
          {"method", req.method},
          {"path", RedactDigitRuns(req.path)},
          {"remote_addr", req.remote_addr},
          {"remote_port", req.remote_port}};
}

// Wraps a mutating payment route with fault injection. It runs inside
// Authenticated(), so a bad API key is always a plain 401 and unauthorized
// requests draw nothing.
Handler WithFaults(FaultInjector* faults, const ShutdownNotice* notice, Handler handler) {
  return [faults, notice, handler = std::move(handler)](const Request& req, Response& res) {
    const FaultInjector::Decision decision = faults->Decide();
    const FaultKind kind = decision.kind;
    if (kind == FaultKind::kNone) {
      handler(req, res);
      return;
    }
    Json fields = FaultLogFields(req, kind);
    if (kind == FaultKind::kError500 || kind == FaultKind::kError429) {
      // Answered before the body is even decoded: nothing is applied, and
      // nothing is saved under the Idempotency-Key, so a retry with the
      // same key runs the operation for real.
      if (kind == FaultKind::kError500) {
        Send(ErrorResult(500, "api_error", "injected fault"), &res);
      } else {
        Send(ErrorResult(429, "invalid_request_error",
                         absl::StrCat("Too many requests (injected fault). "
                                      "Retry after ",
                                      decision.retry_after_seconds, " seconds."),
                         "rate_limit"),
             &res);
        res.set_header("Retry-After", absl::StrCat(decision.retry_after_seconds));
        fields["retry_after_seconds"] = decision.retry_after_seconds;
      }
      res.set_header(kFaultHeader, std::string(FaultKindName(kind)));
      Log("warning", "injected fault", fields);
      return;
    }
    // Timeout and reset: the operation takes effect for real (journaled,
    // ledgered, its answer saved for the Idempotency-Key); only the answer
    // is lost, the case where a client must not simply try again blind.
    handler(req, res);
    const int fd = SocketOf(req);
    fields["withheld_status"] = res.status;
    std::string pi = PaymentIntentOf(res.body);
    fields["payment_intent"] = pi.empty() ? Json() : Json(pi);
    if (fd < 0) {
      // Not reachable on the TLS server; answer rather than pretend.
      Log("error", "cannot inject fault: no socket; answering normally", fields);
      return;
    }
    res.set_header(kFaultHeader, std::string(FaultKindName(kind)));
    Log("warning", "injected fault", fields);
    if (kind == FaultKind::kReset) {
      ResetConnection(fd);
      return;
    }
    const absl::Time start = absl::Now();
    ShutdownNotice::Wake wake = notice->Wait(kTimeoutHold, fd);
    // Close with a FIN and still no response: whoever is still listening
    // (only a client patient enough to outwait kTimeoutHold) sees an EOF.
    shutdown(fd, SHUT_RDWR);
    Log("info", "released held connection",
        {{"path", fields["path"]},
         {"remote_port", req.remote_port},
         {"reason", WakeName(wake)},
         {"held_ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
  };
}

// Injected latency only delays /v1 API calls; the control routes under
// /v1/test/ stay fast so that a harness can always turn faults off again.
bool HasInjectedLatency(absl::string_view path) {
  return absl::StartsWith(path, "/v1/") && !absl::StartsWith(path, "/v1/test/");
}

void RegisterRoutes(const std::string& api_key, Processor* processor, FaultInjector* faults,
                    const ShutdownNotice* notice, const WebhookSender* webhooks,
                    httplib::Server* server) {
  server->Get("/healthz",
              [](const Request&, Response& res) { res.set_content("ok", "text/plain"); });
  auto post = [&](const char* pattern, Handler handler) {
    server->Post(pattern, Authenticated(api_key, std::move(handler)));
  };
  // The payment operations proper; the only routes that draw faults.
  auto faulty_post = [&](const char* pattern, Handler handler) {
    post(pattern, WithFaults(faults, notice, std::move(handler)));
  };
  auto get = [&](const char* pattern, Handler handler) {
    server->Get(pattern, Authenticated(api_key, std::move(handler)));
  };
  post("/v1/payment_methods",
       FormRoute([processor](const Request&, const Params& p, absl::string_view key) {
         return processor->CreatePaymentMethod(p, key);
       }));
  faulty_post("/v1/payment_intents",
              FormRoute([processor](const Request&, const Params& p, absl::string_view key) {
                return processor->CreatePaymentIntent(p, key);
              }));
  faulty_post(R"(/v1/payment_intents/([^/]+)/capture)",
              FormRoute([processor](const Request& req, const Params& p, absl::string_view key) {
                return processor->CapturePaymentIntent(req.matches[1].str(), p, key);
              }));
  faulty_post(R"(/v1/payment_intents/([^/]+)/cancel)",
              FormRoute([processor](const Request& req, const Params& p, absl::string_view key) {
                return processor->CancelPaymentIntent(req.matches[1].str(), p, key);
              }));
  faulty_post("/v1/refunds",
              FormRoute([processor](const Request&, const Params& p, absl::string_view key) {
                return processor->CreateRefund(p, key);
              }));
  get(R"(/v1/payment_intents/([^/]+))", [processor](const Request& req, Response& res) {
    Send(processor->GetPaymentIntent(req.matches[1].str()), &res);
  });
  get("/v1/test/ledger", [processor](const Request& req, Response& res) {
    Send(processor->GetLedger(req.get_param_value("order_id")), &res);
  });
  post("/v1/test/disputes",
       FormRoute([processor](const Request&, const Params& p, absl::string_view) {
         return processor->CreateTestDispute(p);
       }));
  get("/v1/test/webhooks", [webhooks](const Request&, Response& res) {
    Send(Result{200, webhooks != nullptr ? webhooks->DeliveriesJson()
                                         : std::string(R"({"deliveries":[],"dropped":0})")},
         &res);
  });
  get("/v1/test/faults", [faults](const Request&, Response& res) { Send(faults->State(), &res); });
  post("/v1/test/faults", FormRoute([faults](const Request&, const Params& p, absl::string_view) {
         if (std::optional<KnobError> error = faults->Update(p)) {
           return ErrorResult(400, "invalid_request_error", error->message, error->code,
                              error->param);
         }
         Result state = faults->State();
         Log("info", "fault knobs changed", {{"faults", Json::parse(state.body)}});
         return state;
       }));
}

// Gives errors produced by httplib itself (unknown route, body too large,
// malformed request) the same Stripe shape as ours.
HandlerResponse FillEmptyError(const Request& req, Response& res) {
  if (!res.body.empty()) return HandlerResponse::Unhandled;
  std::string message;
  switch (res.status) {
    case 404:
      message = absl::StrCat("Unrecognized request URL (", req.method, ": ", req.path, ").");
      break;
    case 413:
      message = absl::StrCat("Request body too large; the limit is ", kMaxBodyBytes, " bytes.");
      break;
    case 400:
      // cpp-httplib 0.11 rejects a POST with neither Content-Length nor
      // chunked encoding before routing; say how to fix it.
      message = req.method == "POST" && !req.has_header("Content-Length")
                    ? "POST requests need a Content-Length header (send an "
                      "empty form body, e.g. curl -d '')."
                    : "Malformed HTTP request.";
      break;
    default:
      message = "The request could not be processed.";
  }
  Send(ErrorResult(res.status, "invalid_request_error", message), &res);
  return HandlerResponse::Handled;
}

// cpp-httplib's default socket options include SO_REUSEPORT, which lets a
// second process bind a port that is already serving and silently steal
// part of its connections. Keep only SO_REUSEADDR (fast restarts through
// TIME_WAIT), so a busy port is a startup error as it should be.
void ExclusiveListenSocket(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

void ConfigureServer(const std::string& api_key, Processor* processor, FaultInjector* faults,
                     const ShutdownNotice* notice, const WebhookSender* webhooks,
                     httplib::Server* server) {
  server->set_socket_options(ExclusiveListenSocket);
  server->set_payload_max_length(kMaxBodyBytes);
  server->set_read_timeout(10, 0);
  server->set_write_timeout(10, 0);
  server->set_error_handler(httplib::Server::HandlerWithResponse(FillEmptyError));
  server->set_exception_handler([](const Request&, Response& res, const std::exception_ptr&) {
    Send(ErrorResult(500, "api_error", "Internal error in fakepay."), &res);
  });
  server->set_logger(LogRequest);
  // Latency goes in before routing so that it delays every /v1 answer alike,
  // 401s and 404s included, as network latency would. Waiting here is safe:
  // nothing has been answered, the body simply waits in the socket.
  server->set_pre_routing_handler([faults, notice](const Request& req, Response&) {
    const int latency_ms = faults->plan().latency_ms;
    if (latency_ms > 0 && HasInjectedLatency(req.path)) {
      notice->Wait(absl::Milliseconds(latency_ms));
    }
    return HandlerResponse::Unhandled;
  });
  RegisterRoutes(api_key, processor, faults, notice, webhooks, server);
}

// ---------------------------------------------------------------------------
// Startup helpers.
// ---------------------------------------------------------------------------

bool ParseListen(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  // Allow "[::1]:8443".
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return !host->empty() && absl::SimpleAtoi(listen.substr(colon + 1), port) && *port >= 0 &&
         *port <= 65535;
}

// Refuse encrypted keys instead of letting OpenSSL prompt on the terminal.
int NoPassphrase(char*, int, int, void*) { return -1; }

// Loads the PEM files once with OpenSSL directly, because httplib only
// reports "invalid" without saying which file or why.
absl::Status CheckTlsFiles(const std::string& cert_path, const std::string& key_path) {
  using FilePtr = std::unique_ptr<FILE, int (*)(FILE*)>;
  FilePtr cert_file(std::fopen(cert_path.c_str(), "r"), &std::fclose);
  if (!cert_file) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open --cert ", cert_path, ": ", std::strerror(errno)));
  }
  std::unique_ptr<X509, void (*)(X509*)> cert(
      PEM_read_X509(cert_file.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) {
    return absl::InvalidArgumentError(
        absl::StrCat("--cert ", cert_path, " does not contain a PEM certificate"));
  }
  FilePtr key_file(std::fopen(key_path.c_str(), "r"), &std::fclose);
  if (!key_file) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open --key ", key_path, ": ", std::strerror(errno)));
  }
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(
      PEM_read_PrivateKey(key_file.get(), nullptr, NoPassphrase, nullptr), &EVP_PKEY_free);
  if (!key) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("--key ", key_path, " does not contain an unencrypted PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("--key ", key_path, " does not match the certificate in ", cert_path));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
    Log("warning", "server certificate has expired; clients will reject it", {{"cert", cert_path}});
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Write-then-rename so a harness polling the file never reads a partial
// number.
absl::Status WritePortFile(const std::string& path, int port) {
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  absl::Status written = WriteAll(fd, absl::StrCat(port, "\n"));
  if (written.ok() && fsync(fd) != 0) {
    written = absl::InternalError(std::strerror(errno));
  }
  close(fd);
  if (written.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    written = absl::InternalError(std::strerror(errno));
  }
  if (!written.ok()) {
    unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrCat("cannot write --port_file ", path, ": ", written.message()));
  }
  return absl::OkStatus();
}

// Binds and returns the actual port, or -1.
int Bind(httplib::Server* server, const std::string& host, int port) {
  if (port == 0) return server->bind_to_any_port(host);
  return server->bind_to_port(host, port) ? port : -1;
}

// ---------------------------------------------------------------------------
// Lifecycle.
// ---------------------------------------------------------------------------

// SIGTERM/SIGINT are blocked in every thread and consumed by one dedicated
// thread with sigwait(), so server.stop() runs in normal thread context
// instead of inside an async signal handler.
sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

int Serve(httplib::Server* server, ShutdownNotice* notice) {
  sigset_t signals = ShutdownSignals();
  std::atomic<bool> serving_done{false};
  std::atomic<bool> signaled{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (serving_done) return;  // Woken up by Serve itself for teardown.
    signaled = true;
    Log("info", "shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    // Before stop(), which waits for handlers that may be waiting on this.
    notice->Notify();
    // stop() is a no-op until the accept loop has started running.
    while (!server->is_running() && !serving_done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server->stop();
  });
  bool ok = server->listen_after_bind();
  serving_done = true;
  // Wakes the signal thread from sigwait() (it waits for SIGTERM/SIGINT);
  // it returns instead of terminating anything.
  // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  if (signaled) return 0;
  return ok ? 0 : Fail("server loop exited unexpectedly");
}

// Reads the --fault_* flags, naming the offending flag on error.
absl::StatusOr<FaultPlan> FaultPlanFromFlags() {
  FaultPlan plan;
  plan.latency_ms = absl::GetFlag(FLAGS_fault_latency_ms);
  plan.error_500_percent = absl::GetFlag(FLAGS_fault_500_percent);
  plan.error_429_percent = absl::GetFlag(FLAGS_fault_429_percent);
  plan.retry_after_seconds = absl::GetFlag(FLAGS_fault_retry_after_seconds);
  plan.timeout_percent = absl::GetFlag(FLAGS_fault_timeout_percent);
  plan.reset_percent = absl::GetFlag(FLAGS_fault_reset_percent);
  if (std::optional<KnobError> error = plan.Validate()) {
    // Knob "error_500_percent" is flag --fault_500_percent, and so on.
    return absl::InvalidArgumentError(
        absl::StrCat("--fault_", absl::StripPrefix(error->param, "error_"), ": ", error->message));
  }
  return plan;
}

// Below 2^53, so that the seed survives JSON tools that read numbers as
// doubles when it is copied from the log into --fault_seed.
uint64_t RandomSeed() {
  std::random_device device;
  uint64_t seed = (static_cast<uint64_t>(device()) << 32) | device();
  return seed & ((uint64_t{1} << 53) - 1);
}

// The value of environment variable `name`, or "".
std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// The first secret flag on the command line ("--api_key=...", "-api_key ...")
// and the variable that replaces it; null when there is none. Arguments
// after "--" are positional.
const std::pair<const char*, const char*>* SecretFlagOnCommandLine(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "-")) continue;
    absl::ConsumePrefix(&arg, "-");
    arg = arg.substr(0, arg.find('='));
    for (const auto& flag : kSecretFlags) {
      if (arg == flag.first) return &flag;
    }
  }
  return nullptr;
}

// Reads the --webhook_* flags and the signing secret; a null sender when
// webhooks are off.
absl::StatusOr<std::unique_ptr<WebhookSender>> WebhooksFromFlags() {
  WebhookOptions options;
  options.url = absl::GetFlag(FLAGS_webhook_url);
  options.secret = Environment(kWebhookSecretVariable);
  options.ca_file = absl::GetFlag(FLAGS_webhook_ca);
  if (options.url.empty()) {
    if (!options.secret.empty() || !options.ca_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kWebhookSecretVariable, " and --webhook_ca need --webhook_url"));
    }
    return nullptr;
  }
  if (!absl::StartsWithIgnoreCase(options.url, "https://") || options.url.size() <= 8) {
    return absl::InvalidArgumentError("--webhook_url must be an https:// URL");
  }
  if (options.secret.size() < 16) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWebhookSecretVariable,
                     " is required with --webhook_url and must be at least 16 characters"));
  }
  if (options.ca_file.empty()) {
    return absl::InvalidArgumentError("--webhook_ca is required with --webhook_url");
  }
  using FilePtr = std::unique_ptr<FILE, int (*)(FILE*)>;
  FilePtr ca(std::fopen(options.ca_file.c_str(), "r"), &std::fclose);
  if (!ca) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open --webhook_ca ", options.ca_file, ": ", std::strerror(errno)));
  }
  std::unique_ptr<X509, void (*)(X509*)> first(PEM_read_X509(ca.get(), nullptr, nullptr, nullptr),
                                               &X509_free);
  if (!first) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("--webhook_ca ", options.ca_file, " does not contain a PEM certificate"));
  }
  options.log = [](absl::string_view level, absl::string_view msg, const Json& fields) {
    Log(level, msg, fields);
  };
  // Without the query string, which might carry a token.
  Log("info", "webhooks enabled",
      {{"url", RedactDigitRuns(options.url.substr(0, options.url.find('?')))}});
  return std::make_unique<WebhookSender>(std::move(options));
}

int Run(const std::vector<char*>& positional) {
  if (positional.size() > 1) {
    return Fail(absl::StrCat("unexpected argument: ", positional[1]));
  }
  const std::string cert = absl::GetFlag(FLAGS_cert);
  const std::string key = absl::GetFlag(FLAGS_key);
  const std::string api_key = Environment(kApiKeyVariable);
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (cert.empty() || key.empty()) return Fail("--cert and --key are required");
  if (api_key.empty()) {
    return Fail(absl::StrCat(kApiKeyVariable, " (the API key clients must present) is required"));
  }
  std::string host;
  int port = 0;
  if (!ParseListen(listen, &host, &port)) {
    return Fail(absl::StrCat("--listen must be host:port, got '", listen, "'"));
  }
  absl::Status tls = CheckTlsFiles(cert, key);
  if (!tls.ok()) return Fail(tls.message());
  absl::StatusOr<FaultPlan> fault_plan = FaultPlanFromFlags();
  if (!fault_plan.ok()) return Fail(fault_plan.status().message());
  const std::optional<uint64_t> seed = absl::GetFlag(FLAGS_fault_seed);
  FaultInjector faults(*fault_plan, seed.has_value() ? *seed : RandomSeed());
  std::unique_ptr<ShutdownNotice> notice = ShutdownNotice::Create();
  if (notice == nullptr) {
    return Fail(absl::StrCat("eventfd: ", std::strerror(errno)));
  }

  absl::StatusOr<std::unique_ptr<WebhookSender>> sender = WebhooksFromFlags();
  if (!sender.ok()) return Fail(sender.status().message());
  // Declared before the processor, so it outlives the callback below.
  std::unique_ptr<WebhookSender> webhooks = *std::move(sender);

  ProcessorOptions options;
  options.journal_path = absl::GetFlag(FLAGS_state_file);
  options.fingerprint_secret = api_key;
  if (webhooks != nullptr) {
    WebhookSender* target = webhooks.get();
    options.on_event = [target](const Event& event) { target->Enqueue(event); };
  }
  std::vector<std::string> warnings;
  auto processor = Processor::Open(std::move(options), &warnings);
  for (const std::string& warning : warnings) Log("warning", warning);
  if (!processor.ok()) return Fail(processor.status().message());

  httplib::SSLServer server(cert.c_str(), key.c_str());
  if (!server.is_valid()) {
    return Fail("OpenSSL could not set up a TLS context from --cert/--key");
  }
  SSL_CTX_set_min_proto_version(server.ssl_context(), TLS1_2_VERSION);
  // Every kept-alive client connection holds a worker until it idles out: with
  // httplib's default of 8 workers, a busy adapter starves everyone else.
  server.new_task_queue = [] { return new httplib::ThreadPool(128); };
  server.set_keep_alive_timeout(2);
  ConfigureServer(api_key, processor->get(), &faults, notice.get(), webhooks.get(), &server);

  errno = 0;
  int bound = Bind(&server, host, port);
  if (bound < 0) {
    return Fail(absl::StrCat("cannot listen on ", listen,
                             errno ? absl::StrCat(": ", std::strerror(errno)) : std::string()));
  }
  if (!port_file.empty()) {
    absl::Status written = WritePortFile(port_file, bound);
    if (!written.ok()) return Fail(written.message());
  }
  Log("info", "listening", {{"host", host}, {"port", bound}});
  // Always logged, knobs off or not: the seed is what reproduces a run in
  // which faults were switched on later through /v1/test/faults.
  Log("info", "fault injection", {{"faults", Json::parse(faults.State().body)}});
  const int code = Serve(&server, notice.get());
  // The server has stopped, so no more events; abandon pending deliveries.
  if (webhooks != nullptr) webhooks->Stop();
  return code;
}

}  // namespace
}  // namespace fakepay

// An exception escaping main is a bug; std::terminate's report is the right
// outcome for it.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  absl::SetProgramUsageMessage(
      "Fake Stripe-like card processor over HTTPS.\n"
      "  SHOP_FAKEPAY_API_KEY=sk_test_... fakepay --cert=server.pem --key=server.key "
      "[--listen=127.0.0.1:8443] [--state_file=fakepay.jsonl] "
      "[--port_file=port] [--fault_*=... (see --helpfull)]\n"
      "Webhooks: --webhook_url=https://... --webhook_ca=ca.pem, signed with "
      "SHOP_FAKEPAY_WEBHOOK_SECRET=whsec_... (secrets only from the environment: "
      "a command line is readable by every local user).");
  if (const auto* flag = fakepay::SecretFlagOnCommandLine(argc, argv); flag != nullptr) {
    return fakepay::Fail(absl::StrCat("--", flag->first,
                                      " is refused on the command line, which every local user "
                                      "can read (/proc/<pid>/cmdline); set ",
                                      flag->second, " in the environment instead"));
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  // Block shutdown signals before any thread exists so that every thread
  // inherits the mask and only the sigwait() thread ever sees them. A peer
  // closing a TLS connection mid-write must not kill the process either.
  sigset_t signals = fakepay::ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Before any thread exists: curl_global_init is not thread-safe.
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    std::fputs("fakepay: curl_global_init failed\n", stderr);
    return 1;
  }
  const int code = fakepay::Run(positional);
  curl_global_cleanup();
  return code;
}
