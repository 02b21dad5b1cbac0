// An OpenAPI 3.0 document of the JSON bridge, generated from the same route
// table and descriptors that serve the requests (GET /openapi.json).
//
// Paths are the templates with `{field.path}` parameters (a variable with a
// pattern such as `{name=shelves/*/books/*}` becomes `{name}` with that
// pattern in its description); operationIds are Service_Method, with the
// binding number appended for additional bindings (Service_Method2, ...).
// Schemas use proto3 JSON names and types: 64-bit integers are strings
// (format int64/uint64), enums are strings of value names, repeated fields
// arrays, maps objects, messages $refs under components/schemas by full proto
// name, Timestamp a date-time string. Errors are google.rpc.Status.
#ifndef SHOP_SERVICES_BRIDGE_OPENAPI_H_
#define SHOP_SERVICES_BRIDGE_OPENAPI_H_

#include <string>

#include "services/bridge/routes.h"

namespace shop::bridge {

struct OpenApiInfo {
  std::string title = "shopmesh JSON bridge";
  std::string version = "v1";
};

// The document as JSON text.
std::string OpenApiJson(const RouteTable& routes, const OpenApiInfo& info = {});

}  // namespace shop::bridge

#endif  // SHOP_SERVICES_BRIDGE_OPENAPI_H_
