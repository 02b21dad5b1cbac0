#include "services/bridge/openapi.h"

#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/log.h"
#include "services/bridge/transcoder.h"

namespace shop::bridge {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using Json = nlohmann::ordered_json;

constexpr char kErrorSchema[] = "google.rpc.Status";
constexpr char kAnySchema[] = "google.protobuf.Any";

std::string Ref(absl::string_view name) { return absl::StrCat("#/components/schemas/", name); }

// Collects the messages and enums that schemas refer to, then renders them.
class SchemaSet {
 public:
  Json FieldSchema(const FieldDescriptor* field) {
    if (field->is_map()) {
      return Json{{"type", "object"},
                  {"additionalProperties", SingleSchema(field->message_type()->map_value())}};
    }
    if (field->is_repeated()) return Json{{"type", "array"}, {"items", SingleSchema(field)}};
    return SingleSchema(field);
  }

  Json MessageRef(const Descriptor* type) {
    if (std::optional<Json> known = WellKnown(type); known.has_value()) return *known;
    Want(type);
    return Json{{"$ref", Ref(type->full_name())}};
  }

  Json Components() {
    Json schemas = Json::object();
    std::map<std::string, Json> rendered;
    while (!pending_.empty()) {
      const Descriptor* type = pending_.front();
      pending_.pop_front();
      Json properties = Json::object();
      for (int i = 0; i < type->field_count(); ++i) {
        const FieldDescriptor* field = type->field(i);
        properties[field->json_name()] = FieldSchema(field);
      }
      rendered[type->full_name()] = Json{{"type", "object"}, {"properties", std::move(properties)}};
    }
    for (const EnumDescriptor* type : enums_) {
      Json names = Json::array();
      for (int i = 0; i < type->value_count(); ++i) names.push_back(type->value(i)->name());
      rendered[type->full_name()] = Json{{"type", "string"}, {"enum", std::move(names)}};
    }
    rendered[kAnySchema] =
        Json{{"type", "object"},
             {"description", "A detail: its type URL in @type and the fields of that message."},
             {"properties", {{"@type", {{"type", "string"}}}}},
             {"additionalProperties", true}};
    rendered[kErrorSchema] = Json{
        {"type", "object"},
        {"properties",
         {{"code", {{"type", "integer"}, {"format", "int32"}, {"description", "gRPC status code"}}},
          {"message", {{"type", "string"}}},
          {"details", {{"type", "array"}, {"items", {{"$ref", Ref(kAnySchema)}}}}}}}};
    for (auto& [name, schema] : rendered) schemas[name] = std::move(schema);
    return schemas;
  }

 private:
  void Want(const Descriptor* type) {
    if (wanted_.insert(type->full_name()).second) pending_.push_back(type);
  }

  static Json Scalar(const FieldDescriptor::CppType type, const FieldDescriptor* field) {
    switch (type) {
      case FieldDescriptor::CPPTYPE_INT32:
        return Json{{"type", "integer"}, {"format", "int32"}};
      case FieldDescriptor::CPPTYPE_UINT32:
        return Json{{"type", "integer"}, {"format", "int64"}, {"minimum", 0}};
      case FieldDescriptor::CPPTYPE_INT64:
        return Json{{"type", "string"}, {"format", "int64"}};
      case FieldDescriptor::CPPTYPE_UINT64:
        return Json{{"type", "string"}, {"format", "uint64"}};
      case FieldDescriptor::CPPTYPE_DOUBLE:
        return Json{{"type", "number"}, {"format", "double"}};
      case FieldDescriptor::CPPTYPE_FLOAT:
        return Json{{"type", "number"}, {"format", "float"}};
      case FieldDescriptor::CPPTYPE_BOOL:
        return Json{{"type", "boolean"}};
      case FieldDescriptor::CPPTYPE_STRING:
        if (field != nullptr && field->type() == FieldDescriptor::TYPE_BYTES) {
          return Json{{"type", "string"}, {"format", "byte"}};
        }
        return Json{{"type", "string"}};
      default:
        return Json::object();
    }
  }

  Json SingleSchema(const FieldDescriptor* field) {
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_ENUM:
        enums_.insert(field->enum_type());
        return Json{{"$ref", Ref(field->enum_type()->full_name())}};
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return MessageRef(field->message_type());
      default:
        return Scalar(field->cpp_type(), field);
    }
  }

  static std::optional<Json> WellKnown(const Descriptor* type) {
    const std::string& name = type->full_name();
    if (name == "google.protobuf.Timestamp")
      return Json{{"type", "string"}, {"format", "date-time"}};
    if (name == "google.protobuf.Duration") {
      return Json{{"type", "string"}, {"description", "seconds with an 's' suffix, e.g. \"1.5s\""}};
    }
    if (name == "google.protobuf.FieldMask") {
      return Json{{"type", "string"}, {"description", "comma-separated field paths"}};
    }
    if (name == "google.protobuf.Struct")
      return Json{{"type", "object"}, {"additionalProperties", true}};
    if (name == "google.protobuf.Value") return Json::object();
    if (name == "google.protobuf.ListValue")
      return Json{{"type", "array"}, {"items", Json::object()}};
    if (name == "google.protobuf.Empty") return Json{{"type", "object"}};
    if (name == "google.protobuf.Any") return Json{{"$ref", Ref(kAnySchema)}};
    if (absl::StartsWith(name, "google.protobuf.") && absl::EndsWith(name, "Value") &&
        type->field_count() == 1) {
      Json schema = Scalar(type->field(0)->cpp_type(), type->field(0));
      schema["nullable"] = true;
      return schema;
    }
    return std::nullopt;
  }

  std::set<std::string> wanted_;
  std::deque<const Descriptor*> pending_;
  std::set<const EnumDescriptor*> enums_;
};

// "/v1/{name}" for "/v1/{name=shelves/*/books/*}"; unbound wildcards become
// {_segment1}, ... and {_rest}.
struct RenderedPath {
  std::string path;
  std::vector<std::pair<std::string, std::string>> anonymous;  // name, description
};

RenderedPath RenderPath(const PathTemplate& path) {
  RenderedPath out;
  std::vector<std::string> parts;
  size_t segment = 0;
  size_t variable = 0;
  int anonymous = 0;
  const auto& segments = path.segments();
  const auto& variables = path.variables();
  while (segment < segments.size()) {
    if (variable < variables.size() && variables[variable].first_segment == segment) {
      parts.push_back(absl::StrCat("{", variables[variable].field_path, "}"));
      segment = variables[variable].end_segment;
      ++variable;
      continue;
    }
    const PathTemplate::Segment& s = segments[segment++];
    if (s.kind == PathTemplate::SegmentKind::kLiteral) {
      parts.push_back(s.literal);
    } else {
      const bool rest = s.kind == PathTemplate::SegmentKind::kMultiWildcard;
      std::string name = rest ? "_rest" : absl::StrCat("_segment", ++anonymous);
      out.anonymous.emplace_back(name, rest ? "any remaining segments (not bound to a field)"
                                            : "any one segment (not bound to a field)");
      parts.push_back(absl::StrCat("{", name, "}"));
    }
  }
  out.path = absl::StrCat("/", absl::StrJoin(parts, "/"));
  if (!path.verb().empty()) absl::StrAppend(&out.path, ":", path.verb());
  return out;
}

std::string VariablePattern(const PathTemplate& path, const PathTemplate::Variable& variable) {
  std::vector<std::string> parts;
  for (size_t i = variable.first_segment; i < variable.end_segment; ++i) {
    const auto& s = path.segments()[i];
    parts.push_back(s.kind == PathTemplate::SegmentKind::kLiteral    ? s.literal
                    : s.kind == PathTemplate::SegmentKind::kWildcard ? "*"
                                                                     : "**");
  }
  return absl::StrJoin(parts, "/");
}

void AddQueryParameters(SchemaSet& schemas, const Route& route, const Descriptor* type,
                        const std::string& prefix, FieldPath& stack, Json& parameters) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    stack.push_back(field);
    bool bound = stack.front() == route.body_field;
    for (const FieldPath& path : route.path_fields) bound |= path == stack;
    const std::string name = absl::StrCat(prefix, field->name());
    if (!bound && AcceptsTextValue(field)) {
      Json parameter{{"name", name},
                     {"in", "query"},
                     {"required", false},
                     {"schema", schemas.FieldSchema(field)}};
      if (field->is_repeated()) {
        parameter["style"] = "form";
        parameter["explode"] = true;
      }
      parameters.push_back(std::move(parameter));
    } else if (!bound && !field->is_repeated() && !field->is_map() &&
               field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      bool recursive = false;
      for (size_t s = 0; s + 1 < stack.size(); ++s) {
        recursive |= stack[s]->message_type() == field->message_type();
      }
      if (!recursive && field->message_type() != type && stack.size() < 8) {
        AddQueryParameters(schemas, route, field->message_type(), absl::StrCat(name, "."), stack,
                           parameters);
      }
    }
    stack.pop_back();
  }
}

Json Operation(SchemaSet& schemas, const Route& route, const RenderedPath& rendered) {
  const auto* service = route.method->service();
  Json op;
  op["operationId"] =
      absl::StrCat(service->name(), "_", route.method->name(),
                   route.binding_index == 0 ? "" : absl::StrCat(route.binding_index + 1));
  op["tags"] = Json::array({service->name()});
  op["summary"] = absl::StrCat(route.method->full_name(), " (gRPC ", route.grpc_method, ")");
  Json parameters = Json::array();
  for (size_t i = 0; i < route.path.variables().size(); ++i) {
    const auto& variable = route.path.variables()[i];
    Json parameter{{"name", variable.field_path},
                   {"in", "path"},
                   {"required", true},
                   {"schema", schemas.FieldSchema(route.path_fields[i].back())}};
    const std::string pattern = VariablePattern(route.path, variable);
    if (pattern != "*") parameter["description"] = absl::StrCat("pattern: ", pattern);
    parameters.push_back(std::move(parameter));
  }
  for (const auto& [name, description] : rendered.anonymous) {
    parameters.push_back(Json{{"name", name},
                              {"in", "path"},
                              {"required", true},
                              {"description", description},
                              {"schema", {{"type", "string"}}}});
  }
  if (route.body != "*") {
    FieldPath stack;
    AddQueryParameters(schemas, route, route.method->input_type(), "", stack, parameters);
  }
  if (!parameters.empty()) op["parameters"] = std::move(parameters);
  if (!route.body.empty()) {
    Json schema = route.body_field == nullptr ? schemas.MessageRef(route.method->input_type())
                                              : schemas.FieldSchema(route.body_field);
    op["requestBody"] = Json{{"required", false},
                             {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
  }
  Json ok_schema = route.response_body_field == nullptr
                       ? schemas.MessageRef(route.method->output_type())
                       : schemas.FieldSchema(route.response_body_field);
  Json ok;
  if (route.server_streaming) {
    ok["description"] =
        "A stream: one JSON message per line; if the stream fails, a last line "
        "{\"error\": {code, message, details}}.";
    ok["content"] = Json{{"application/x-ndjson", {{"schema", std::move(ok_schema)}}}};
  } else {
    ok["description"] = "OK";
    ok["content"] = Json{{"application/json", {{"schema", std::move(ok_schema)}}}};
  }
  op["responses"] =
      Json{{"200", std::move(ok)},
           {"default",
            {{"description", "An error: the gRPC status with its details."},
             {"content", {{"application/json", {{"schema", {{"$ref", Ref(kErrorSchema)}}}}}}}}}};
  return op;
}

}  // namespace

std::string OpenApiJson(const RouteTable& routes, const OpenApiInfo& info) {
  static const std::set<std::string>* const kMethods = new std::set<std::string>{
      "get", "put", "post", "delete", "options", "head", "patch", "trace"};
  SchemaSet schemas;
  Json paths = Json::object();
  for (const Route& route : routes.routes()) {
    const std::string method = absl::AsciiStrToLower(route.http_method);
    if (kMethods->count(method) == 0) {
      log::Warn("OpenAPI 3.0 cannot describe this HTTP method",
                {{"method", route.method->full_name()}, {"http_method", route.http_method}});
      continue;
    }
    const RenderedPath rendered = RenderPath(route.path);
    Json& item = paths[rendered.path];
    if (item.contains(method)) {
      // Two templates that render alike ({name=a/*} and {name=b/*}): one entry.
      std::string& description = item[method]["description"].get_ref<std::string&>();
      absl::StrAppend(&description, " Also: ", route.http_method, " ", route.path.text(), " (",
                      route.method->full_name(), ").");
      continue;
    }
    item[method] = Operation(schemas, route, rendered);
    item[method]["description"] = absl::StrCat(route.http_method, " ", route.path.text());
  }
  Json document;
  document["openapi"] = "3.0.3";
  document["info"] = Json{{"title", info.title}, {"version", info.version}};
  document["paths"] = std::move(paths);
  document["components"] = Json{{"schemas", schemas.Components()}};
  return document.dump(2, ' ', false, Json::error_handler_t::replace);
}

}  // namespace shop::bridge
