// HTTP/JSON ↔ protobuf for one route: the request message from the body,
// the path bindings, the query parameters and the Idempotency-Key header; the
// response (or its response_body field) as proto3 JSON.
//
// Request rules:
//  - body "*": the whole message from JSON; then no query parameter is
//    accepted (every field not in the path belongs to the body).
//  - body "<field>": that field from the JSON body; path and query fill the
//    rest.
//  - no body: a non-empty body is refused; path and query fill the message.
//  - An empty body is an empty message (or an unset body field).
//  - JSON accepts proto names and lowerCamelCase names; unknown JSON fields
//    are refused (typos surface at once instead of being silently dropped).
//  - Path values win nothing: a field set both by the body and the path to
//    different values is INVALID_ARGUMENT (equal values are fine).
//  - Query parameters name non-path, non-body fields by dotted proto or JSON
//    names; repeated fields repeat the parameter; a singular field given twice,
//    an unknown name, a message (other than well-known types written as
//    strings) or a map is INVALID_ARGUMENT naming the parameter.
//  - Idempotency-Key sets a top-level string field `idempotency_key` when the
//    request has one (and is ignored otherwise). It does not override: when
//    the body (or path or query) already holds a different non-empty key, the
//    request is INVALID_ARGUMENT.
// Response JSON: lowerCamelCase names, enums by name, 64-bit integers as
// strings, and zero values printed (like grpc-gateway v2's EmitUnpopulated).
#ifndef SHOP_SERVICES_BRIDGE_TRANSCODER_H_
#define SHOP_SERVICES_BRIDGE_TRANSCODER_H_

#include <google/protobuf/message.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/bridge/path_template.h"
#include "services/bridge/routes.h"

namespace shop::bridge {

inline constexpr char kIdempotencyKeyField[] = "idempotency_key";

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// What the transcoder needs from an HTTP request.
struct HttpRequestParts {
  absl::string_view body;
  QueryParams query;  // decoded, in request order
  std::optional<std::string> idempotency_key;
};

// Splits and decodes a raw query string ("a=1&b=x%20y&c"; '+' is a space).
// INVALID_ARGUMENT on bad percent-encoding, invalid UTF-8 or a missing name.
absl::StatusOr<QueryParams> ParseQueryString(absl::string_view raw_query);

// Whether a field can take its value from text (a path segment or a query
// parameter): scalars, enums, and the well-known types whose JSON is a
// string or a number (Timestamp, Duration, FieldMask, wrappers).
bool AcceptsTextValue(const google::protobuf::FieldDescriptor* field);

// Sets (or appends to, when repeated) the field at `path` in `message` from
// text, converted to its type. When `refuse_conflict` and the singular field
// already holds another value: INVALID_ARGUMENT.
absl::Status SetFieldFromText(google::protobuf::Message& message, const FieldPath& path,
                              absl::string_view text, bool refuse_conflict);

// A new, empty message of a type compiled into this binary.
std::unique_ptr<google::protobuf::Message> NewMessage(const google::protobuf::Descriptor* type);

// Fills `request` (of the route's input type). INVALID_ARGUMENT with a
// google.rpc.BadRequest naming the field or parameter on any problem.
absl::Status BuildRequestMessage(const Route& route, const PathBindings& bindings,
                                 const HttpRequestParts& parts, google::protobuf::Message& request);

// The response, or its response_body field, as compact proto3 JSON.
absl::StatusOr<std::string> ResponseToJson(const Route& route,
                                           const google::protobuf::Message& response);

// Any message as compact proto3 JSON (the response options above).
absl::StatusOr<std::string> MessageToJson(const google::protobuf::Message& message);

}  // namespace shop::bridge

#endif  // SHOP_SERVICES_BRIDGE_TRANSCODER_H_
