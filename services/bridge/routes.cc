#include "services/bridge/routes.h"

#include <google/protobuf/descriptor_database.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/log.h"
#include "core/status.h"
#include "google/api/annotations.pb.h"
#include "services/bridge/transcoder.h"

namespace shop::bridge {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;

bool IsToken(absl::string_view kind) {
  if (kind.empty()) return false;
  for (char c : kind) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

struct Binding {
  std::string http_method;
  std::string path;
};

absl::StatusOr<Binding> PatternOf(const google::api::HttpRule& rule) {
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      return Binding{"GET", rule.get()};
    case google::api::HttpRule::kPut:
      return Binding{"PUT", rule.put()};
    case google::api::HttpRule::kPost:
      return Binding{"POST", rule.post()};
    case google::api::HttpRule::kDelete:
      return Binding{"DELETE", rule.delete_()};
    case google::api::HttpRule::kPatch:
      return Binding{"PATCH", rule.patch()};
    case google::api::HttpRule::kCustom:
      if (!IsToken(rule.custom().kind())) {
        return absl::InvalidArgumentError(absl::StrCat("custom kind \"", rule.custom().kind(),
                                                       "\" must be an upper-case HTTP method"));
      }
      return Binding{rule.custom().kind(), rule.custom().path()};
    case google::api::HttpRule::PATTERN_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "no HTTP method and path (get, put, post, delete, patch or custom)");
}

absl::StatusOr<Route> MakeRoute(const MethodDescriptor* method, const google::api::HttpRule& rule,
                                int binding_index) {
  SHOP_ASSIGN_OR_RETURN(Binding binding, PatternOf(rule));
  SHOP_ASSIGN_OR_RETURN(PathTemplate path, PathTemplate::Parse(binding.path));
  Route route;
  route.http_method = binding.http_method;
  route.path = std::move(path);
  route.method = method;
  route.grpc_method = absl::StrCat("/", method->service()->full_name(), "/", method->name());
  route.server_streaming = method->server_streaming();
  route.binding_index = binding_index;
  const Descriptor* request = method->input_type();

  route.body = rule.body();
  if (!route.body.empty() && route.body != "*") {
    route.body_field = request->FindFieldByName(route.body);
    if (route.body_field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "body \"", route.body, "\" is not a top-level field of ", request->full_name()));
    }
  }
  if (!route.body.empty() && route.http_method == "GET") {
    return absl::InvalidArgumentError("a GET binding cannot have a body");
  }
  if (!rule.response_body().empty()) {
    route.response_body_field = method->output_type()->FindFieldByName(rule.response_body());
    if (route.response_body_field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("response_body \"", rule.response_body(),
                                                     "\" is not a top-level field of ",
                                                     method->output_type()->full_name()));
    }
  }
  for (const PathTemplate::Variable& variable : route.path.variables()) {
    SHOP_ASSIGN_OR_RETURN(FieldPath fields, ResolveFieldPath(request, variable.field_path));
    const FieldDescriptor* leaf = fields.back();
    if (leaf->is_repeated() || !AcceptsTextValue(leaf)) {
      return absl::InvalidArgumentError(
          absl::StrCat("path variable '", variable.field_path,
                       "' must name a singular scalar, enum or well-known-type field"));
    }
    if (route.body_field != nullptr && fields.size() == 1 && fields[0] == route.body_field) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field '", variable.field_path, "' cannot be both the body and a path variable"));
    }
    route.path_fields.push_back(std::move(fields));
  }
  return route;
}

absl::Status AddMethodRoutes(const MethodDescriptor* method, std::vector<Route>& routes) {
  const google::api::HttpRule& rule = method->options().GetExtension(google::api::http);
  std::vector<const google::api::HttpRule*> rules = {&rule};
  for (const auto& additional : rule.additional_bindings()) {
    if (additional.additional_bindings_size() > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(method->full_name(), ": additional_bindings cannot nest"));
    }
    rules.push_back(&additional);
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    absl::StatusOr<Route> route = MakeRoute(method, *rules[i], static_cast<int>(i));
    if (!route.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          method->full_name(), i == 0 ? "" : absl::StrCat(" additional_bindings[", i - 1, "]"),
          ": ", route.status().message()));
    }
    routes.push_back(*std::move(route));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FieldPath> ResolveFieldPath(const Descriptor* message, absl::string_view dotted) {
  FieldPath path;
  const Descriptor* current = message;
  std::vector<absl::string_view> parts = absl::StrSplit(dotted, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (current == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("'", dotted, "': '", FieldPathName(path),
                                                     "' is not a message, it has no field '",
                                                     parts[i], "'"));
    }
    const FieldDescriptor* field = current->FindFieldByName(std::string(parts[i]));
    if (field == nullptr) field = current->FindFieldByCamelcaseName(std::string(parts[i]));
    if (field == nullptr) {
      for (int f = 0; f < current->field_count(); ++f) {
        if (current->field(f)->json_name() == parts[i]) field = current->field(f);
      }
    }
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", dotted, "': ", current->full_name(), " has no field '", parts[i], "'"));
    }
    if (i + 1 < parts.size() &&
        (field->is_repeated() || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", dotted, "': '", field->name(), "' is not a singular message field"));
    }
    path.push_back(field);
    current =
        field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ? field->message_type() : nullptr;
  }
  return path;
}

std::string FieldPathName(const FieldPath& path) {
  std::vector<std::string> names;
  for (const FieldDescriptor* field : path) names.push_back(field->name());
  return absl::StrJoin(names, ".");
}

std::string PathFieldValue(const Route& route, const PathBindings& bindings,
                           absl::string_view field_name) {
  for (size_t i = 0; i < route.path_fields.size() && i < bindings.size(); ++i) {
    const FieldPath& path = route.path_fields[i];
    if (!path.empty() && path.back()->name() == field_name) return bindings[i].second;
  }
  return "";
}

std::vector<const FileDescriptor*> RouteTable::GeneratedFiles() {
  std::vector<std::string> names;
  google::protobuf::DescriptorPool::internal_generated_database()->FindAllFileNames(&names);
  std::sort(names.begin(), names.end());
  std::vector<const FileDescriptor*> files;
  for (const std::string& name : names) {
    const FileDescriptor* file =
        google::protobuf::DescriptorPool::generated_pool()->FindFileByName(name);
    if (file != nullptr) files.push_back(file);
  }
  return files;
}

absl::StatusOr<std::unique_ptr<RouteTable>> RouteTable::Build(
    const std::vector<const FileDescriptor*>& files, const Options& options) {
  std::unique_ptr<RouteTable> table(new RouteTable);
  for (const FileDescriptor* file : files) {
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const MethodDescriptor* method = service->method(m);
        if (!method->options().HasExtension(google::api::http)) continue;
        if (method->client_streaming()) {
          log::Info("JSON bridge skips a client-streaming method",
                    {{"method", method->full_name()}});
          continue;
        }
        SHOP_RETURN_IF_ERROR(AddMethodRoutes(method, table->routes_));
      }
    }
  }
  std::vector<RequestPath> reserved;
  for (const std::string& path : options.reserved_paths) {
    SHOP_ASSIGN_OR_RETURN(RequestPath parsed, RequestPath::Parse(path));
    reserved.push_back(std::move(parsed));
  }
  for (size_t i = 0; i < table->routes_.size(); ++i) {
    Route& route = table->routes_[i];
    route.order = i;
    for (size_t r = 0; r < reserved.size(); ++r) {
      if (route.path.Match(reserved[r]).has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(route.method->full_name(), ": \"", route.path.text(), "\" could match ",
                         options.reserved_paths[r], ", which the bridge serves itself"));
      }
    }
    for (size_t j = 0; j < i; ++j) {
      const Route& earlier = table->routes_[j];
      if (earlier.http_method == route.http_method && earlier.path.SameShape(route.path)) {
        return absl::InvalidArgumentError(absl::StrCat(
            route.http_method, " \"", route.path.text(), "\" of ", route.method->full_name(),
            " is ambiguous with \"", earlier.path.text(), "\" of ", earlier.method->full_name()));
      }
    }
    if (route.server_streaming) {
      const Descriptor* out = route.method->output_type();
      for (int f = 0; f < out->field_count(); ++f) {
        if (out->field(f)->json_name() == "error") {
          log::Warn("streamed messages have a top-level field \"error\", like the final error line",
                    {{"method", route.method->full_name()}});
        }
      }
    }
  }
  return table;
}

absl::StatusOr<RouteMatch> RouteTable::Match(absl::string_view http_method,
                                             absl::string_view raw_path) const {
  SHOP_ASSIGN_OR_RETURN(RequestPath path, RequestPath::Parse(raw_path));
  RouteMatch best;
  std::set<std::string> allowed;
  for (const Route& route : routes_) {
    std::optional<PathBindings> bindings = route.path.Match(path);
    if (!bindings.has_value()) continue;
    allowed.insert(route.http_method);
    if (route.http_method != http_method) continue;
    // Routes are in declaration order, so on a tie the earlier one stays.
    if (best.route == nullptr || route.path.CompareSpecificity(best.route->path) < 0) {
      best.route = &route;
      best.bindings = *std::move(bindings);
    }
  }
  if (allowed.empty()) {
    return absl::NotFoundError(absl::StrCat("no route for ", raw_path));
  }
  if (best.route == nullptr) best.allowed_methods.assign(allowed.begin(), allowed.end());
  return best;
}

std::vector<std::string> RouteTable::services() const {
  std::set<std::string> names;
  for (const Route& route : routes_) names.insert(route.method->service()->full_name());
  return {names.begin(), names.end()};
}

}  // namespace shop::bridge
