// The route table of the JSON bridge, built only from the google.api.http
// options of the compiled-in service descriptors: one route per binding
// (the rule itself and each additional_binding).
//
// Precedence, when several templates match a request path (for one HTTP
// method), is decided in this order:
//   1. more literal segments win (a custom verb counts as one literal);
//   2. a template with a custom verb wins over one without;
//   3. segment by segment from the left, the first difference decides:
//      literal > `*` or `{var}` > `**`;
//   4. the longer template wins;
//   5. declaration order: file name, then service and method order in the
//      file, then the rule before its additional_bindings.
// Two bindings with the same HTTP method and the same template shape would
// make one unreachable: start-up refuses them.
#ifndef SHOP_SERVICES_BRIDGE_ROUTES_H_
#define SHOP_SERVICES_BRIDGE_ROUTES_H_

#include <google/protobuf/descriptor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/bridge/path_template.h"

namespace shop::bridge {

using FieldPath = std::vector<const google::protobuf::FieldDescriptor*>;

struct Route {
  std::string http_method;  // "GET", "POST", ... or a custom kind, upper case
  PathTemplate path;
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string grpc_method;  // "/shop.v1.CustomerService/GetOrder"
  // The HttpRule body: "" (no body), "*" (the whole request) or a top-level
  // field of the request, resolved in `body_field`.
  std::string body;
  const google::protobuf::FieldDescriptor* body_field = nullptr;
  // The HttpRule response_body, resolved; null: the whole response.
  const google::protobuf::FieldDescriptor* response_body_field = nullptr;
  // One resolved field path per path variable, in template order.
  std::vector<FieldPath> path_fields;
  bool server_streaming = false;
  int binding_index = 0;  // 0: the rule itself; 1..: its additional_bindings
  size_t order = 0;       // declaration order across the table
};

struct RouteMatch {
  // The winning route; null when templates match the path but none for this
  // HTTP method (405: `allowed_methods` says which would).
  const Route* route = nullptr;
  PathBindings bindings;
  std::vector<std::string> allowed_methods;  // sorted, unique
};

class RouteTable {
 public:
  struct Options {
    // Paths the bridge answers itself (/healthz, /openapi.json): a binding
    // whose template could match one is refused at start.
    std::vector<std::string> reserved_paths;
  };

  // Every .proto file compiled into this binary (protobuf's generated pool).
  static std::vector<const google::protobuf::FileDescriptor*> GeneratedFiles();

  // INVALID_ARGUMENT naming the method and binding for a bad rule: template
  // syntax, unknown or unsuitable fields, GET with a body, ambiguous or
  // reserved templates. Client-streaming and bidi methods are skipped (logged).
  static absl::StatusOr<std::unique_ptr<RouteTable>> Build(
      const std::vector<const google::protobuf::FileDescriptor*>& files, const Options& options);

  // INVALID_ARGUMENT for an undecodable path, NOT_FOUND when no template
  // matches it; otherwise a match (possibly a 405, see RouteMatch).
  absl::StatusOr<RouteMatch> Match(absl::string_view http_method, absl::string_view raw_path) const;

  const std::vector<Route>& routes() const { return routes_; }
  // Full names of the services that have at least one route.
  std::vector<std::string> services() const;

 private:
  RouteTable() = default;
  std::vector<Route> routes_;
};

// Resolves a dotted field path ("book.name") in `message`: every part but the
// last a singular message field; accepts proto names and JSON names.
absl::StatusOr<FieldPath> ResolveFieldPath(const google::protobuf::Descriptor* message,
                                           absl::string_view dotted);

// "book.name" for a resolved path (proto names).
std::string FieldPathName(const FieldPath& path);

// The value `bindings` (of a match of `route`) give a field named
// `field_name`, at any depth ("order_id" for /v1/orders/{order_id}); empty
// when the path binds none.
std::string PathFieldValue(const Route& route, const PathBindings& bindings,
                           absl::string_view field_name);

}  // namespace shop::bridge

#endif  // SHOP_SERVICES_BRIDGE_ROUTES_H_
