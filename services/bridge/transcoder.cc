#include "services/bridge/transcoder.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/status.h"
#include "core/validation.h"

namespace shop::bridge {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status Violation(absl::string_view field, absl::string_view description) {
  FieldViolations violations;
  violations.Add(std::string(field), std::string(description));
  return violations.ToStatus("invalid request");
}

bool IsWrapper(const Descriptor* type) {
  static const std::set<std::string>* const kWrappers = new std::set<std::string>{
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
      "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue"};
  return kWrappers->count(type->full_name()) > 0;
}

bool IsStringJsonType(const Descriptor* type) {
  return type->full_name() == "google.protobuf.Timestamp" ||
         type->full_name() == "google.protobuf.Duration" ||
         type->full_name() == "google.protobuf.FieldMask";
}

std::string TypeName(const FieldDescriptor* field) {
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE)
    return field->message_type()->full_name();
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) return field->enum_type()->full_name();
  return field->type_name();
}

template <typename T>
absl::StatusOr<T> ParseInteger(absl::string_view text, const FieldDescriptor* field) {
  T value;
  if (!absl::SimpleAtoi(text, &value) ||
      (std::is_unsigned<T>::value && absl::StartsWith(text, "-"))) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a valid ", field->type_name()));
  }
  return value;
}

absl::StatusOr<double> ParseDouble(absl::string_view text, const FieldDescriptor* field) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  double value;
  if (text.empty() || !absl::SimpleAtod(text, &value) || std::isnan(value) || std::isinf(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a valid ", field->type_name()));
  }
  return value;
}

// Sets the singular `field` of `message`, or appends to it when repeated.
absl::Status StoreText(Message& message, const FieldDescriptor* field, absl::string_view text) {
  const Reflection* reflection = message.GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string value;
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        if (!absl::Base64Unescape(text, &value) && !absl::WebSafeBase64Unescape(text, &value)) {
          return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not valid base64"));
        }
      } else {
        if (!IsValidUtf8(text)) return absl::InvalidArgumentError("not valid UTF-8");
        value = std::string(text);
      }
      repeated ? reflection->AddString(&message, field, value)
               : reflection->SetString(&message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      SHOP_ASSIGN_OR_RETURN(int32_t value, ParseInteger<int32_t>(text, field));
      repeated ? reflection->AddInt32(&message, field, value)
               : reflection->SetInt32(&message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      SHOP_ASSIGN_OR_RETURN(int64_t value, ParseInteger<int64_t>(text, field));
      repeated ? reflection->AddInt64(&message, field, value)
               : reflection->SetInt64(&message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      SHOP_ASSIGN_OR_RETURN(uint32_t value, ParseInteger<uint32_t>(text, field));
      repeated ? reflection->AddUInt32(&message, field, value)
               : reflection->SetUInt32(&message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      SHOP_ASSIGN_OR_RETURN(uint64_t value, ParseInteger<uint64_t>(text, field));
      repeated ? reflection->AddUInt64(&message, field, value)
               : reflection->SetUInt64(&message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      SHOP_ASSIGN_OR_RETURN(double value, ParseDouble(text, field));
      repeated ? reflection->AddDouble(&message, field, value)
               : reflection->SetDouble(&message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      SHOP_ASSIGN_OR_RETURN(double value, ParseDouble(text, field));
      if (std::isfinite(value) && std::fabs(value) > std::numeric_limits<float>::max()) {
        return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is out of range for float"));
      }
      repeated ? reflection->AddFloat(&message, field, static_cast<float>(value))
               : reflection->SetFloat(&message, field, static_cast<float>(value));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      const std::string lower = absl::AsciiStrToLower(text);
      bool value;
      if (lower == "true" || lower == "1") {
        value = true;
      } else if (lower == "false" || lower == "0") {
        value = false;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", text, "\" is not a bool (true or false)"));
      }
      repeated ? reflection->AddBool(&message, field, value)
               : reflection->SetBool(&message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* enum_type = field->enum_type();
      int number;
      if (const auto* by_name = enum_type->FindValueByName(std::string(text)); by_name != nullptr) {
        number = by_name->number();
      } else if (absl::SimpleAtoi(text, &number) &&
                 (enum_type->FindValueByNumber(number) != nullptr ||
                  enum_type->file()->syntax() == google::protobuf::FileDescriptor::SYNTAX_PROTO3)) {
        // Proto3 enums are open: unknown numbers are kept, as in binary.
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", text, "\" is not a value of ", enum_type->full_name()));
      }
      repeated ? reflection->AddEnumValue(&message, field, number)
               : reflection->SetEnumValue(&message, field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Descriptor* type = field->message_type();
      Message* target = repeated ? reflection->AddMessage(&message, field)
                                 : reflection->MutableMessage(&message, field);
      if (IsWrapper(type)) return StoreText(*target, type->FindFieldByName("value"), text);
      if (IsStringJsonType(type)) {
        const std::string json =
            nlohmann::json(std::string(text))
                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        auto status = google::protobuf::util::JsonStringToMessage(json, target);
        if (!status.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("\"", text, "\" is not a valid ", type->full_name()));
        }
        return absl::OkStatus();
      }
      break;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("a ", TypeName(field), " cannot be given as text"));
}

// Walks `path` down from `root`, creating intermediate messages. Refuses a
// second member of a oneof.
absl::StatusOr<Message*> ParentFor(Message& root, const FieldPath& path) {
  Message* current = &root;
  for (size_t i = 0; i < path.size(); ++i) {
    const FieldDescriptor* field = path[i];
    const Reflection* reflection = current->GetReflection();
    if (const auto* oneof = field->real_containing_oneof(); oneof != nullptr) {
      const FieldDescriptor* set = reflection->GetOneofFieldDescriptor(*current, oneof);
      if (set != nullptr && set != field) {
        return absl::InvalidArgumentError(absl::StrCat(
            "'", set->name(), "' is already set and only one of ", oneof->name(), " may be"));
      }
    }
    if (i + 1 == path.size()) break;
    current = reflection->MutableMessage(current, field);
  }
  return current;
}

std::string JsonError(absl::string_view what, const nlohmann::json::exception& e) {
  // nlohmann's messages start with "[json.exception.parse_error.101] ".
  absl::string_view message = e.what();
  if (const size_t bracket = message.find("] "); bracket != absl::string_view::npos) {
    message.remove_prefix(bracket + 2);
  }
  return absl::StrCat(what, ": ", message);
}

// Checks that `body` is one well-formed JSON value (helpful positions for
// syntax errors; protobuf then checks names and types).
absl::Status CheckJsonSyntax(absl::string_view body, bool require_object) {
  try {
    nlohmann::json value = nlohmann::json::parse(body.begin(), body.end());
    if (require_object && !value.is_object()) {
      return Violation("body", "the request body must be a JSON object");
    }
  } catch (const nlohmann::json::exception& e) {
    return Violation("body", JsonError("malformed JSON", e));
  }
  return absl::OkStatus();
}

absl::Status ParseJsonInto(absl::string_view json, Message& message, absl::string_view field) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message, options);
  if (!status.ok()) {
    return Violation(
        field, absl::StrCat("the JSON does not fit ", message.GetDescriptor()->full_name(), ": ",
                            std::string(status.message())));
  }
  return absl::OkStatus();
}

bool IsBlank(absl::string_view text) { return absl::StripAsciiWhitespace(text).empty(); }

bool StartsWithPath(const FieldPath& path, const FieldPath& prefix) {
  return path.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

}  // namespace

absl::StatusOr<QueryParams> ParseQueryString(absl::string_view raw_query) {
  QueryParams params;
  for (absl::string_view part : absl::StrSplit(raw_query, '&', absl::SkipEmpty())) {
    const size_t eq = part.find('=');
    std::string name(part.substr(0, eq));
    std::string value(eq == absl::string_view::npos ? "" : part.substr(eq + 1));
    std::replace(name.begin(), name.end(), '+', ' ');
    std::replace(value.begin(), value.end(), '+', ' ');
    absl::StatusOr<std::string> decoded_name = PercentDecode(name);
    absl::StatusOr<std::string> decoded_value = PercentDecode(value);
    if (!decoded_name.ok()) return decoded_name.status();
    if (!decoded_value.ok()) return decoded_value.status();
    if (decoded_name->empty()) {
      return absl::InvalidArgumentError("a query parameter has no name");
    }
    if (!IsValidUtf8(*decoded_name) || !IsValidUtf8(*decoded_value)) {
      return absl::InvalidArgumentError("the query string is not valid UTF-8 once decoded");
    }
    params.emplace_back(*std::move(decoded_name), *std::move(decoded_value));
  }
  return params;
}

bool AcceptsTextValue(const FieldDescriptor* field) {
  if (field->is_map()) return false;
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return true;
  return IsWrapper(field->message_type()) || IsStringJsonType(field->message_type());
}

std::unique_ptr<Message> NewMessage(const Descriptor* type) {
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type);
  return prototype == nullptr ? nullptr : std::unique_ptr<Message>(prototype->New());
}

absl::Status SetFieldFromText(Message& message, const FieldPath& path, absl::string_view text,
                              bool refuse_conflict) {
  SHOP_ASSIGN_OR_RETURN(Message * parent, ParentFor(message, path));
  const FieldDescriptor* field = path.back();
  if (field->is_repeated()) return StoreText(*parent, field, text);
  std::unique_ptr<Message> scratch(parent->New());
  SHOP_RETURN_IF_ERROR(StoreText(*scratch, field, text));
  const Reflection* reflection = parent->GetReflection();
  if (refuse_conflict && reflection->HasField(*parent, field)) {
    // Compare only this field: clear the others in a copy.
    std::unique_ptr<Message> only(parent->New());
    only->CopyFrom(*parent);
    std::vector<const FieldDescriptor*> set_fields;
    reflection->ListFields(*only, &set_fields);
    for (const FieldDescriptor* other : set_fields) {
      if (other != field) reflection->ClearField(only.get(), other);
    }
    if (!google::protobuf::util::MessageDifferencer::Equals(*only, *scratch)) {
      return absl::InvalidArgumentError("another value for this field is already given");
    }
  }
  reflection->SwapFields(parent, scratch.get(), {field});
  return absl::OkStatus();
}

absl::Status BuildRequestMessage(const Route& route, const PathBindings& bindings,
                                 const HttpRequestParts& parts, Message& request) {
  // 1. The body.
  if (!IsBlank(parts.body)) {
    if (route.body.empty()) {
      return Violation("body", "this method takes no request body");
    }
    if (route.body == "*") {
      SHOP_RETURN_IF_ERROR(CheckJsonSyntax(parts.body, /*require_object=*/true));
      SHOP_RETURN_IF_ERROR(ParseJsonInto(parts.body, request, "body"));
    } else {
      SHOP_RETURN_IF_ERROR(CheckJsonSyntax(parts.body, /*require_object=*/false));
      // The value is one well-formed JSON value, so this wrapper is too.
      const std::string wrapped = absl::StrCat(
          "{", nlohmann::json(route.body_field->json_name()).dump(), ":", parts.body, "}");
      SHOP_RETURN_IF_ERROR(ParseJsonInto(wrapped, request, route.body_field->name()));
    }
  }

  // 2. The path.
  FieldViolations violations;
  for (size_t i = 0; i < bindings.size() && i < route.path_fields.size(); ++i) {
    absl::Status status = SetFieldFromText(request, route.path_fields[i], bindings[i].second,
                                           /*refuse_conflict=*/true);
    if (!status.ok()) {
      violations.Add(FieldPathName(route.path_fields[i]),
                     absl::StrCat("path value: ", status.message()));
    }
  }

  // 3. The query.
  std::set<std::string> singular_seen;
  for (const auto& [name, value] : parts.query) {
    if (route.body == "*") {
      violations.Add(name, "query parameters are not accepted: the body carries the whole request");
      continue;
    }
    absl::StatusOr<FieldPath> path = ResolveFieldPath(route.method->input_type(), name);
    if (!path.ok()) {
      violations.Add(name, absl::StrCat("unknown query parameter (", path.status().message(), ")"));
      continue;
    }
    if (route.body_field != nullptr && path->front() == route.body_field) {
      violations.Add(name, "this field is part of the request body");
      continue;
    }
    bool in_path = false;
    for (const FieldPath& bound : route.path_fields) in_path |= StartsWithPath(*path, bound);
    if (in_path) {
      violations.Add(name, "this field is given by the URL path");
      continue;
    }
    const FieldDescriptor* leaf = path->back();
    if (!AcceptsTextValue(leaf)) {
      violations.Add(name, leaf->is_map() ? "map fields cannot be query parameters"
                                          : "this is a message: give its fields as dotted names");
      continue;
    }
    const std::string canonical = FieldPathName(*path);
    if (!leaf->is_repeated() && !singular_seen.insert(canonical).second) {
      violations.Add(name, "given more than once but not repeated");
      continue;
    }
    absl::Status status = SetFieldFromText(request, *path, value, /*refuse_conflict=*/false);
    if (!status.ok()) violations.Add(name, std::string(status.message()));
  }

  // 4. The Idempotency-Key header.
  if (parts.idempotency_key.has_value() && !parts.idempotency_key->empty()) {
    const FieldDescriptor* field = request.GetDescriptor()->FindFieldByName(kIdempotencyKeyField);
    if (field != nullptr && field->type() == FieldDescriptor::TYPE_STRING &&
        !field->is_repeated()) {
      const std::string current = request.GetReflection()->GetString(request, field);
      if (!current.empty() && current != *parts.idempotency_key) {
        violations.Add(kIdempotencyKeyField,
                       "the Idempotency-Key header and the request disagree; send one key");
      } else if (!IsValidUtf8(*parts.idempotency_key)) {
        violations.Add(kIdempotencyKeyField, "the Idempotency-Key header is not valid UTF-8");
      } else {
        request.GetReflection()->SetString(&request, field, *parts.idempotency_key);
      }
    }
  }
  return violations.ToStatus("invalid request");
}

absl::StatusOr<std::string> MessageToJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot render ", message.GetDescriptor()->full_name(),
                                            " as JSON: ", std::string(status.message())));
  }
  return out;
}

absl::StatusOr<std::string> ResponseToJson(const Route& route, const Message& response) {
  const FieldDescriptor* field = route.response_body_field;
  if (field == nullptr) return MessageToJson(response);
  const Reflection* reflection = response.GetReflection();
  if (!field->is_repeated() && field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return MessageToJson(reflection->GetMessage(response, field));
  }
  // Render a copy holding only that field, then take its value.
  std::unique_ptr<Message> only(response.New());
  only->CopyFrom(response);
  std::vector<const FieldDescriptor*> set_fields;
  reflection->ListFields(*only, &set_fields);
  for (const FieldDescriptor* other : set_fields) {
    if (other != field) reflection->ClearField(only.get(), other);
  }
  SHOP_ASSIGN_OR_RETURN(std::string json, MessageToJson(*only));
  try {
    nlohmann::json parsed = nlohmann::json::parse(json);
    auto it = parsed.find(field->json_name());
    if (it == parsed.end()) return std::string("null");
    return it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const nlohmann::json::exception& e) {
    return absl::InternalError(JsonError("cannot render the response body", e));
  }
}

}  // namespace shop::bridge
