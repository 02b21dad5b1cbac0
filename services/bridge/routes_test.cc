#include "services/bridge/routes.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "google/api/annotations.pb.h"
#include "services/bridge/testdata/bridge_test.pb.h"

namespace shop::bridge {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;

const FileDescriptor* TestFile() { return shop::bridgetest::EchoRequest::descriptor()->file(); }

std::unique_ptr<RouteTable> TestRoutes() {
  RouteTable::Options options;
  options.reserved_paths = {"/healthz", "/openapi.json"};
  auto table = RouteTable::Build({TestFile()}, options);
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *std::move(table) : nullptr;
}

std::string MethodOf(const RouteTable& table, absl::string_view http_method,
                     absl::string_view path) {
  absl::StatusOr<RouteMatch> match = table.Match(http_method, path);
  if (!match.ok()) return std::string(match.status().ToString());
  if (match->route == nullptr) return "405";
  return match->route->method->name() + "#" + std::to_string(match->route->binding_index);
}

TEST(RoutesTest, GeneratedFilesHoldEveryCompiledInProto) {
  std::vector<std::string> names;
  for (const FileDescriptor* file : RouteTable::GeneratedFiles()) names.push_back(file->name());
  EXPECT_NE(std::find(names.begin(), names.end(), "shop/v1/ecp.proto"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "services/bridge/testdata/bridge_test.proto"),
            names.end());
}

TEST(RoutesTest, OneRoutePerBindingAndStreamingClientsSkipped) {
  auto table = TestRoutes();
  ASSERT_NE(table, nullptr);
  // Echo 3, EchoSpecial, Cancel, DeleteEcho, GetFile, Probe, Watch; GetBook 2,
  // UpdateBook, CreateBook. Upload (client streaming) and Hidden are absent.
  EXPECT_EQ(table->routes().size(), 13u);
  for (const Route& route : table->routes()) {
    EXPECT_NE(route.method->name(), "Upload");
    EXPECT_NE(route.method->name(), "Hidden");
  }
  EXPECT_EQ(table->services(), (std::vector<std::string>{"shop.bridgetest.EchoService",
                                                         "shop.bridgetest.LibraryService"}));
}

TEST(RoutesTest, ResolvesBodiesResponseBodiesAndPathFields) {
  auto table = TestRoutes();
  ASSERT_NE(table, nullptr);
  absl::StatusOr<RouteMatch> update = table->Match("PATCH", "/v1/shelves/s1/books/b1");
  ASSERT_TRUE(update.ok());
  ASSERT_NE(update->route, nullptr);
  EXPECT_EQ(update->route->grpc_method, "/shop.bridgetest.LibraryService/UpdateBook");
  EXPECT_EQ(update->route->body, "book");
  EXPECT_EQ(update->route->body_field->name(), "book");
  ASSERT_EQ(update->route->path_fields.size(), 1u);
  EXPECT_EQ(FieldPathName(update->route->path_fields[0]), "book.name");
  EXPECT_EQ(update->bindings, (PathBindings{{"book.name", "shelves/s1/books/b1"}}));

  absl::StatusOr<RouteMatch> title = table->Match("GET", "/v1/shelves/s1/books/b1/title");
  ASSERT_TRUE(title.ok());
  ASSERT_NE(title->route, nullptr);
  EXPECT_EQ(title->route->binding_index, 1);
  EXPECT_EQ(title->route->response_body_field->name(), "title");

  absl::StatusOr<RouteMatch> nested = table->Match("GET", "/v1/echo/e1/nested/lbl");
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->bindings, (PathBindings{{"id", "e1"}, {"nested.label", "lbl"}}));
  EXPECT_TRUE(table->Match("GET", "/v1/echo/e1:watch")->route->server_streaming);
}

TEST(RoutesTest, PrecedenceIsDeterministic) {
  auto table = TestRoutes();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(MethodOf(*table, "GET", "/v1/echo/e1"), "Echo#0");
  EXPECT_EQ(MethodOf(*table, "GET", "/v1/echo/special"), "EchoSpecial#0");  // literal beats {id}
  EXPECT_EQ(MethodOf(*table, "GET", "/v1/echo/e1:watch"), "Watch#0");       // verb beats {id}
  EXPECT_EQ(MethodOf(*table, "POST", "/v1/echo/e1:cancel"), "Cancel#0");
  EXPECT_EQ(MethodOf(*table, "POST", "/v1/echo"), "Echo#1");
  EXPECT_EQ(MethodOf(*table, "DELETE", "/v1/echo/e1"), "DeleteEcho#0");
  EXPECT_EQ(MethodOf(*table, "HEAD", "/v1/echo/e1/probe"), "Probe#0");
  EXPECT_EQ(MethodOf(*table, "GET", "/v1/files/a/b/c"), "GetFile#0");
  EXPECT_EQ(MethodOf(*table, "GET", "/v1/shelves/s/books/b"), "GetBook#0");
  EXPECT_EQ(MethodOf(*table, "POST", "/v1/shelves/s/books"), "CreateBook#0");
}

TEST(RoutesTest, DistinguishesNotFoundFromMethodNotAllowed) {
  auto table = TestRoutes();
  ASSERT_NE(table, nullptr);
  absl::StatusOr<RouteMatch> none = table->Match("GET", "/v2/echo/e1");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(none.status().message(), "no route for /v2/echo/e1");

  absl::StatusOr<RouteMatch> put = table->Match("PUT", "/v1/echo/e1");
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->route, nullptr);
  EXPECT_EQ(put->allowed_methods, (std::vector<std::string>{"DELETE", "GET"}));

  absl::StatusOr<RouteMatch> bad = table->Match("GET", "/v1/echo/%zz");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

// Builds a one-method service whose rule is `rule_text` (HttpRule text format).
absl::Status BuildWithRule(const std::string& rule_text, bool client_streaming = false,
                           size_t* route_count = nullptr) {
  static DescriptorPool* pool = new DescriptorPool(DescriptorPool::generated_pool());
  static int counter = 0;
  const std::string package = "bad" + std::to_string(++counter);
  google::protobuf::FileDescriptorProto file;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        syntax: "proto3"
        message_type {
          name: "Req"
          field { name: "id" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "id" }
          field { name: "tags" number: 2 type: TYPE_STRING label: LABEL_REPEATED json_name: "tags" }
          field {
            name: "inner"
            number: 3
            type: TYPE_MESSAGE
            label: LABEL_OPTIONAL
            type_name: ".PKG.Inner"
            json_name: "inner"
          }
        }
        message_type {
          name: "Inner"
          field { name: "x" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "x" }
        }
        message_type {
          name: "Resp"
          field {
            name: "title"
            number: 1
            type: TYPE_STRING
            label: LABEL_OPTIONAL
            json_name: "title"
          }
        }
        service {
          name: "S"
          method { name: "M" input_type: ".PKG.Req" output_type: ".PKG.Resp" }
        }
      )pb",
      &file));
  file.set_name(package + ".proto");
  file.set_package(package);
  for (auto& message : *file.mutable_message_type()) {
    for (auto& field : *message.mutable_field()) {
      if (field.has_type_name()) field.set_type_name("." + package + ".Inner");
    }
  }
  auto* method = file.mutable_service(0)->mutable_method(0);
  method->set_input_type("." + package + ".Req");
  method->set_output_type("." + package + ".Resp");
  method->set_client_streaming(client_streaming);
  google::api::HttpRule rule;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(rule_text, &rule)) << rule_text;
  *method->mutable_options()->MutableExtension(google::api::http) = rule;
  const FileDescriptor* built = pool->BuildFile(file);
  EXPECT_NE(built, nullptr);
  RouteTable::Options options;
  options.reserved_paths = {"/healthz", "/openapi.json"};
  auto table = RouteTable::Build({built}, options);
  if (table.ok() && route_count != nullptr) *route_count = (*table)->routes().size();
  return table.status();
}

TEST(RoutesTest, RefusesBadRulesAtStartNamingTheMethod) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(get: "/v1/{missing}")", "has no field 'missing'"},
      {R"(get: "/v1/{tags}")", "must name a singular scalar"},
      {R"(get: "/v1/{inner}")", "must name a singular scalar"},
      {R"(get: "/v1/{id.x}")", "is not a singular message field"},
      {R"(get: "/v1/x" body: "*")", "a GET binding cannot have a body"},
      {R"(post: "/v1/x" body: "nope")", "body \"nope\" is not a top-level field"},
      {R"(post: "/v1/x" response_body: "nope")", "response_body \"nope\""},
      {R"(post: "/v1/{id}" body: "id")", "cannot be both the body and a path variable"},
      {R"(custom { kind: "purge" path: "/v1/x" })", "must be an upper-case HTTP method"},
      {R"(body: "*")", "no HTTP method and path"},
      {R"(get: "v1/x")", "must start with '/'"},
      {R"(get: "/healthz")", "could match /healthz, which the bridge serves itself"},
      {R"(get: "/{id}")", "could match /healthz"},
      {R"(get: "/v1/{id}" additional_bindings { get: "/v1/{inner.x}" })", "is ambiguous with"},
      {R"(get: "/v1/x" additional_bindings { get: "/v1/y" additional_bindings { get: "/v1/z" } })",
       "additional_bindings cannot nest"},
      {R"(get: "/v1/x" additional_bindings { post: "/v1/{nope}" body: "*" })",
       "additional_bindings[0]: '"},
  };
  for (const auto& [rule, message] : cases) {
    absl::Status status = BuildWithRule(rule);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << rule;
    EXPECT_NE(status.message().find(message), absl::string_view::npos) << rule << ": " << status;
    EXPECT_NE(status.message().find(".S.M"), absl::string_view::npos) << status;
  }
}

TEST(RoutesTest, AcceptsGoodRulesAndSkipsClientStreaming) {
  size_t count = 0;
  EXPECT_TRUE(BuildWithRule(R"(get: "/v1/{inner.x}/items/{id}")", false, &count).ok());
  EXPECT_EQ(count, 1u);
  EXPECT_TRUE(BuildWithRule(R"(delete: "/v1/{id}" body: "*")", false, &count).ok());
  EXPECT_TRUE(BuildWithRule(R"(custom { kind: "HEAD" path: "/v1/x" } response_body: "title")",
                            false, &count)
                  .ok());
  EXPECT_TRUE(BuildWithRule(R"(post: "/v1/x" body: "*")", /*client_streaming=*/true, &count).ok());
  EXPECT_EQ(count, 0u);
}

TEST(RoutesTest, ResolveFieldPathAcceptsProtoAndJsonNames) {
  const auto* type = shop::bridgetest::EchoRequest::descriptor();
  EXPECT_EQ(FieldPathName(*ResolveFieldPath(type, "nested.inner.depth")), "nested.inner.depth");
  EXPECT_EQ(FieldPathName(*ResolveFieldPath(type, "displayName")), "display_name");
  EXPECT_EQ(FieldPathName(*ResolveFieldPath(type, "display_name")), "display_name");
  EXPECT_EQ(ResolveFieldPath(type, "nested.nope").status().message(),
            "'nested.nope': shop.bridgetest.Nested has no field 'nope'");
  EXPECT_EQ(ResolveFieldPath(type, "tags.x").status().message(),
            "'tags.x': 'tags' is not a singular message field");
}

TEST(RoutesTest, PathFieldValueFindsTheBoundField) {
  RouteTable::Options options;
  options.reserved_paths = {"/healthz", "/openapi.json"};
  auto shop_routes = RouteTable::Build(RouteTable::GeneratedFiles(), options);
  ASSERT_TRUE(shop_routes.ok()) << shop_routes.status();
  absl::StatusOr<RouteMatch> cancel = (*shop_routes)->Match("POST", "/v1/orders/ord_1:cancel");
  ASSERT_TRUE(cancel.ok() && cancel->route != nullptr);
  EXPECT_EQ(PathFieldValue(*cancel->route, cancel->bindings, "order_id"), "ord_1");
  absl::StatusOr<RouteMatch> list = (*shop_routes)->Match("GET", "/v1/orders");
  ASSERT_TRUE(list.ok() && list->route != nullptr);
  EXPECT_EQ(PathFieldValue(*list->route, list->bindings, "order_id"), "");

  auto table = TestRoutes();
  ASSERT_NE(table, nullptr);
  absl::StatusOr<RouteMatch> nested = table->Match("GET", "/v1/echo/e1/nested/lbl");
  ASSERT_TRUE(nested.ok() && nested->route != nullptr);
  EXPECT_EQ(PathFieldValue(*nested->route, nested->bindings, "label"), "lbl");
  EXPECT_EQ(PathFieldValue(*nested->route, nested->bindings, "id"), "e1");
  EXPECT_EQ(PathFieldValue(*nested->route, nested->bindings, "order_id"), "");
}

}  // namespace
}  // namespace shop::bridge
