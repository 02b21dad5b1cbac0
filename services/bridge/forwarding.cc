#include "services/bridge/forwarding.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/ids.h"
#include "core/trace.h"
#include "core/validation.h"

namespace shop::bridge {
namespace {

constexpr char kServiceName[] = "bridge";
// The log refuses longer names; attribute values are kept short on purpose.
constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxAttributeBytes = 256;
constexpr size_t kMaxMethodBytes = 32;
constexpr size_t kMaxStatusMessageBytes = 1024;
constexpr const char* kStandardMethods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                            "CONNECT", "OPTIONS", "TRACE", "PATCH"};

// Headers a browser may send on a cross-origin call, besides Grpc-Metadata-*.
constexpr const char* kAllowedRequestHeaders[] = {"authorization",   "content-type",
                                                  "idempotency-key", "grpc-timeout",
                                                  "traceparent",     "tracestate"};
constexpr int kPreflightMaxAgeSeconds = 600;

bool IsValidMetadataKey(absl::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

bool IsValidMetadataValue(absl::string_view value) {
  for (char c : value) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Keys the bridge never passes in either direction.
bool IsBlockedKey(absl::string_view key) {
  return absl::StartsWith(key, kInternalHeaderPrefix) || absl::StartsWith(key, "grpc-") ||
         key == "content-type" || key == "te" || key == "user-agent" || key == "host" ||
         key == "connection" || key == "authorization" || key == "traceparent" ||
         key == "tracestate" || absl::StartsWith(key, ":");
}

std::string HeaderCase(absl::string_view key) {
  std::string out(key);
  bool start = true;
  for (char& c : out) {
    if (start) c = absl::ascii_toupper(static_cast<unsigned char>(c));
    start = c == '-';
  }
  return out;
}

void AddMetadataHeaders(absl::string_view prefix, const HeaderList& metadata, HeaderList& out) {
  for (const auto& [key, value] : metadata) {
    const std::string lower = absl::AsciiStrToLower(key);
    if (IsBlockedKey(lower)) continue;
    const bool binary = absl::EndsWith(lower, "-bin");
    if (!binary && !IsValidMetadataValue(value)) continue;
    out.emplace_back(absl::StrCat(prefix, HeaderCase(lower)),
                     binary ? absl::Base64Escape(value) : value);
  }
}

// The path as sent, with any byte that is not printable ASCII escaped.
std::string PercentEncodedPath(absl::string_view path, size_t max_bytes) {
  std::string out;
  for (char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7f) {
      out.push_back(c);
    } else {
      constexpr char kHexDigits[] = "0123456789ABCDEF";  // upper case, as RFC 3986 prefers
      out.push_back('%');
      out.push_back(kHexDigits[byte >> 4]);
      out.push_back(kHexDigits[byte & 0xF]);
    }
    if (out.size() >= max_bytes) break;
  }
  return out.substr(0, max_bytes);
}

// Messages may be any UTF-8 (from the backend): kept so, cut at a character
// boundary; anything else is made safe as above.
std::string Utf8Prefix(absl::string_view text, size_t max_bytes) {
  if (!IsValidUtf8(text) || text.find('\0') != absl::string_view::npos) {
    std::string out;
    for (char c : text.substr(0, max_bytes)) {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back(byte == 0 || byte >= 0x80 ? '?' : c);
    }
    return out;
  }
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

}  // namespace

// Event text must be valid UTF-8 (protobuf) without NUL (PostgreSQL), and a
// client chooses much of it: printable ASCII only, the rest as '?'.
std::string SafeText(absl::string_view text, size_t max_bytes) {
  std::string out;
  for (char c : text.substr(0, max_bytes)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

absl::StatusOr<absl::Duration> ParseGrpcTimeout(absl::string_view text) {
  if (text.size() < 2 || text.size() > 9) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad Grpc-Timeout \"", text, "\": 1 to 8 digits and a unit (H M S m u n)"));
  }
  absl::string_view digits = text.substr(0, text.size() - 1);
  int64_t amount = 0;
  bool all_digits = true;
  for (char c : digits) all_digits &= absl::ascii_isdigit(static_cast<unsigned char>(c)) != 0;
  if (!all_digits || !absl::SimpleAtoi(digits, &amount) ||
      absl::string_view("HMSmun").find(text.back()) == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad Grpc-Timeout \"", text, "\": 1 to 8 digits and a unit (H M S m u n)"));
  }
  switch (text.back()) {
    case 'H':
      return absl::Hours(amount);
    case 'M':
      return absl::Minutes(amount);
    case 'S':
      return absl::Seconds(amount);
    case 'm':
      return absl::Milliseconds(amount);
    case 'u':
      return absl::Microseconds(amount);
    default:
      return absl::Nanoseconds(amount);
  }
}

CallTrace ContinueOrStartTrace(const HeaderList& headers) {
  std::string traceparent;
  std::string tracestate;
  for (const auto& [name, value] : headers) {
    const std::string key = absl::AsciiStrToLower(name);
    if (key == kTraceparentHeader) traceparent = value;
    if (key == kTracestateHeader) tracestate = value;
  }
  CallTrace trace;
  if (std::optional<TraceContext> incoming = ParseTraceparent(traceparent); incoming.has_value()) {
    trace.trace_id = incoming->trace_id;
    trace.parent_span_id = incoming->span_id;
    if (IsValidMetadataValue(tracestate)) trace.tracestate = tracestate;
  } else {
    trace.trace_id = NewTraceId();
  }
  trace.span_id = NewSpanId();
  trace.traceparent = FormatTraceparent(trace.trace_id, trace.span_id);
  return trace;
}

shop::v1::AuditEvent ServerSpanEvent(const HttpServerSpan& span) {
  shop::v1::AuditEvent event;
  event.set_event_id(NewTimeOrderedUuid());
  event.set_kind(shop::v1::EVENT_KIND_SERVER_SPAN);
  event.set_service(kServiceName);
  // A method the bridge dispatched on is one of the route table's; any other
  // is the client's choice, so only the standard ones are named (OTel).
  const bool standard = std::find(std::begin(kStandardMethods), std::end(kStandardMethods),
                                  span.http_method) != std::end(kStandardMethods);
  const std::string method =
      standard || !span.route.empty() ? SafeText(span.http_method, kMaxMethodBytes) : "_OTHER";
  event.set_name(SafeText(
      absl::StrCat(method, " ", span.route.empty() ? kUnmatchedRoute : span.route), kMaxNameBytes));
  *event.mutable_start_time() = ToTimestamp(span.start_time);
  *event.mutable_end_time() = ToTimestamp(span.end_time);
  event.set_trace_id(span.trace.trace_id);
  event.set_span_id(span.trace.span_id);
  event.set_parent_span_id(span.trace.parent_span_id);
  event.set_peer_address(SafeText(span.peer_address, kMaxAttributeBytes));
  if (IsValidId(span.order_id)) event.set_order_id(span.order_id);
  event.set_status_code(span.code);
  event.set_status_message(Utf8Prefix(span.message, kMaxStatusMessageBytes));

  auto& attributes = *event.mutable_attributes();
  attributes["http.request.method"] = method;
  if (method == "_OTHER" && !span.http_method.empty()) {
    attributes["http.request.method_original"] = SafeText(span.http_method, kMaxMethodBytes);
  }
  if (!span.route.empty()) attributes["http.route"] = SafeText(span.route, kMaxAttributeBytes);
  attributes["url.path"] = PercentEncodedPath(span.path, kMaxAttributeBytes);
  attributes["http.response.status_code"] = absl::StrCat(span.http_status);
  if (!span.user_agent.empty()) {
    attributes["user_agent.original"] = SafeText(span.user_agent, kMaxAttributeBytes);
  }
  if (!span.grpc_method.empty()) {
    // "/shop.v1.CustomerService/GetOrder"
    std::vector<absl::string_view> parts =
        absl::StrSplit(absl::StripPrefix(span.grpc_method, "/"), absl::MaxSplits('/', 1));
    attributes["rpc.system"] = "grpc";
    attributes["rpc.service"] = std::string(parts[0]);
    if (parts.size() > 1) attributes["rpc.method"] = std::string(parts[1]);
  }
  return event;
}

absl::StatusOr<OutgoingCall> PrepareOutgoingCall(const HeaderList& headers, const CallTrace& trace,
                                                 const ForwardingOptions& options) {
  OutgoingCall call;
  call.timeout = options.default_timeout;
  for (const auto& [name, value] : headers) {
    const std::string key = absl::AsciiStrToLower(name);
    if (key == "authorization") {
      if (!IsValidMetadataValue(value)) {
        return absl::InvalidArgumentError(
            "the Authorization header has characters gRPC cannot carry");
      }
      call.metadata.emplace_back("authorization", value);
    } else if (key == "grpc-timeout") {
      absl::StatusOr<absl::Duration> timeout = ParseGrpcTimeout(value);
      if (!timeout.ok()) return timeout.status();
      call.timeout = *timeout;
    } else if (absl::StartsWith(key, kMetadataHeaderPrefix)) {
      const std::string metadata_key = key.substr(strlen(kMetadataHeaderPrefix));
      if (IsBlockedKey(metadata_key)) continue;  // see the file comment
      if (!IsValidMetadataKey(metadata_key)) {
        return absl::InvalidArgumentError(absl::StrCat("header ", name, ": \"", metadata_key,
                                                       "\" is not a valid gRPC metadata key"));
      }
      if (absl::EndsWith(metadata_key, "-bin")) {
        std::string decoded;
        if (!absl::Base64Unescape(value, &decoded)) {
          return absl::InvalidArgumentError(
              absl::StrCat("header ", name, ": the value is not base64"));
        }
        call.metadata.emplace_back(metadata_key, std::move(decoded));
      } else {
        if (!IsValidMetadataValue(value)) {
          return absl::InvalidArgumentError(
              absl::StrCat("header ", name, ": the value has characters gRPC cannot carry"));
        }
        call.metadata.emplace_back(metadata_key, value);
      }
    }
  }
  call.timeout = std::min(call.timeout, options.max_timeout);
  if (call.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("Grpc-Timeout must be positive");
  }
  call.metadata.emplace_back(kTraceparentHeader, trace.traceparent);
  if (!trace.tracestate.empty()) call.metadata.emplace_back(kTracestateHeader, trace.tracestate);
  return call;
}

HeaderList ResponseHeadersFromMetadata(const HeaderList& initial, const HeaderList& trailing) {
  HeaderList out;
  AddMetadataHeaders("Grpc-Metadata-", initial, out);
  AddMetadataHeaders("Grpc-Trailer-", trailing, out);
  return out;
}

absl::StatusOr<CorsPolicy> CorsPolicy::Create(const std::vector<std::string>& origins) {
  CorsPolicy policy;
  for (const std::string& raw : origins) {
    const std::string origin(absl::StripAsciiWhitespace(raw));
    if (origin.empty()) continue;
    if (origin == "*") {
      policy.any_ = true;
      continue;
    }
    const size_t scheme_end = origin.find("://");
    const bool scheme_ok =
        scheme_end != std::string::npos &&
        (absl::StartsWith(origin, "https://") || absl::StartsWith(origin, "http://"));
    const std::string host = scheme_ok ? origin.substr(scheme_end + 3) : "";
    if (!scheme_ok || host.empty() || host.find_first_of("/?#* ") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad CORS origin \"", origin,
                       "\": expected scheme://host[:port], e.g. https://shop.example"));
    }
    policy.origins_.push_back(absl::AsciiStrToLower(origin));
  }
  return policy;
}

bool CorsPolicy::Allows(absl::string_view origin) const {
  if (origin.empty()) return false;
  if (any_) return true;
  const std::string lower = absl::AsciiStrToLower(origin);
  for (const std::string& allowed : origins_) {
    if (allowed == lower) return true;
  }
  return false;
}

HeaderList CorsPolicy::ResponseHeaders(absl::string_view origin,
                                       const std::vector<std::string>& exposed) const {
  HeaderList headers;
  if (!Allows(origin)) return headers;
  const std::string lower = absl::AsciiStrToLower(origin);
  if (std::find(origins_.begin(), origins_.end(), lower) != origins_.end()) {
    // An exact origin: credentials (cookies, Authorization) are allowed.
    headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    headers.emplace_back("Access-Control-Allow-Credentials", "true");
  } else {
    headers.emplace_back("Access-Control-Allow-Origin", "*");
  }
  headers.emplace_back("Vary", "Origin");
  if (!exposed.empty()) {
    headers.emplace_back("Access-Control-Expose-Headers", absl::StrJoin(exposed, ", "));
  }
  return headers;
}

HeaderList CorsPolicy::PreflightHeaders(absl::string_view origin,
                                        const std::vector<std::string>& methods,
                                        absl::string_view requested_headers) const {
  HeaderList headers = ResponseHeaders(origin, {});
  if (headers.empty()) return headers;
  std::vector<std::string> allowed(std::begin(kAllowedRequestHeaders),
                                   std::end(kAllowedRequestHeaders));
  std::set<std::string> seen(allowed.begin(), allowed.end());
  for (absl::string_view requested :
       absl::StrSplit(requested_headers, ',', absl::SkipWhitespace())) {
    const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(requested));
    if (absl::StartsWith(lower, kMetadataHeaderPrefix) && seen.insert(lower).second) {
      allowed.push_back(lower);
    }
  }
  headers.emplace_back("Access-Control-Allow-Methods", absl::StrJoin(methods, ", "));
  headers.emplace_back("Access-Control-Allow-Headers", absl::StrJoin(allowed, ", "));
  headers.emplace_back("Access-Control-Max-Age", absl::StrCat(kPreflightMaxAgeSeconds));
  return headers;
}

}  // namespace shop::bridge
