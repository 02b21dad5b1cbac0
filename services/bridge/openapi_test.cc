#include "services/bridge/openapi.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "services/bridge/testdata/bridge_test.pb.h"

namespace shop::bridge {
namespace {

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto table = RouteTable::Build({shop::bridgetest::EchoRequest::descriptor()->file()}, {});
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = *std::move(table);
    doc_ = nlohmann::json::parse(OpenApiJson(*table_));
  }
  const nlohmann::json& Schema(const std::string& name) {
    return doc_["components"]["schemas"][name];
  }

  std::unique_ptr<RouteTable> table_;
  nlohmann::json doc_;
};

TEST_F(OpenApiTest, EveryRouteIsAnOperation) {
  EXPECT_EQ(doc_["openapi"], "3.0.3");
  EXPECT_EQ(doc_["info"]["title"], "shopmesh JSON bridge");
  std::set<std::string> ids;
  for (const auto& [path, item] : doc_["paths"].items()) {
    for (const auto& [method, op] : item.items()) ids.insert(op["operationId"].get<std::string>());
  }
  EXPECT_EQ(ids, (std::set<std::string>{
                     "EchoService_Echo", "EchoService_Echo2", "EchoService_Echo3",
                     "EchoService_EchoSpecial", "EchoService_Cancel", "EchoService_DeleteEcho",
                     "EchoService_GetFile", "EchoService_Probe", "EchoService_Watch",
                     "LibraryService_GetBook", "LibraryService_GetBook2",
                     "LibraryService_UpdateBook", "LibraryService_CreateBook"}));
  EXPECT_TRUE(doc_["paths"].contains("/v1/echo/{id}:cancel"));
  EXPECT_TRUE(doc_["paths"]["/v1/echo/{id}/probe"].contains("head"));
  EXPECT_TRUE(doc_["paths"]["/v1/echo/{id}"].contains("delete"));
}

TEST_F(OpenApiTest, PathAndQueryParameters) {
  const auto& op = doc_["paths"]["/v1/{name}"]["get"];
  EXPECT_EQ(op["operationId"], "LibraryService_GetBook");
  ASSERT_EQ(op["parameters"].size(), 1u);
  EXPECT_EQ(op["parameters"][0]["name"], "name");
  EXPECT_EQ(op["parameters"][0]["in"], "path");
  EXPECT_EQ(op["parameters"][0]["required"], true);
  EXPECT_EQ(op["parameters"][0]["description"], "pattern: shelves/*/books/*");

  const auto& echo = doc_["paths"]["/v1/echo/{id}"]["get"]["parameters"];
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& p : echo) by_name[p["name"]] = p;
  EXPECT_EQ(by_name["id"]["in"], "path");
  EXPECT_EQ(by_name["count"]["in"], "query");
  EXPECT_EQ(by_name["big"]["schema"], (nlohmann::json{{"type", "string"}, {"format", "int64"}}));
  EXPECT_EQ(by_name["tags"]["schema"]["type"], "array");
  EXPECT_EQ(by_name["tags"]["explode"], true);
  EXPECT_EQ(by_name["nested.inner.depth"]["schema"]["format"], "int32");
  EXPECT_EQ(by_name["at"]["schema"]["format"], "date-time");
  EXPECT_EQ(by_name["color"]["schema"]["$ref"], "#/components/schemas/shop.bridgetest.Color");
  EXPECT_FALSE(by_name.count("labels"));  // maps cannot be query parameters
  EXPECT_FALSE(by_name.count("nested"));

  // body "*": no query parameters, the whole request as body.
  const auto& post = doc_["paths"]["/v1/echo"]["post"];
  EXPECT_FALSE(post.contains("parameters"));
  EXPECT_EQ(post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/shop.bridgetest.EchoRequest");
  // body "book": that field is the body, the others are query parameters.
  const auto& update = doc_["paths"]["/v1/{book.name}"]["patch"];
  EXPECT_EQ(update["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/shop.bridgetest.Book");
  ASSERT_EQ(update["parameters"].size(), 2u);
  EXPECT_EQ(update["parameters"][1]["name"], "allow_missing");
}

TEST_F(OpenApiTest, SchemasUseProto3JsonNamesAndTypes) {
  const auto& request = Schema("shop.bridgetest.EchoRequest")["properties"];
  EXPECT_TRUE(request.contains("displayName"));
  EXPECT_EQ(request["big"], (nlohmann::json{{"type", "string"}, {"format", "int64"}}));
  EXPECT_EQ(request["ubig"], (nlohmann::json{{"type", "string"}, {"format", "uint64"}}));
  EXPECT_EQ(request["count"], (nlohmann::json{{"type", "integer"}, {"format", "int32"}}));
  EXPECT_EQ(request["flag"], (nlohmann::json{{"type", "boolean"}}));
  EXPECT_EQ(request["blob"], (nlohmann::json{{"type", "string"}, {"format", "byte"}}));
  EXPECT_EQ(request["numbers"]["items"]["format"], "int64");
  EXPECT_EQ(request["nested"]["$ref"], "#/components/schemas/shop.bridgetest.Nested");
  EXPECT_EQ(request["at"], (nlohmann::json{{"type", "string"}, {"format", "date-time"}}));
  EXPECT_EQ(request["labels"]["additionalProperties"]["type"], "string");
  EXPECT_EQ(request["maybe"]["nullable"], true);
  EXPECT_EQ(Schema("shop.bridgetest.Color"),
            (nlohmann::json{{"type", "string"}, {"enum", {"COLOR_UNSPECIFIED", "RED", "GREEN"}}}));
  EXPECT_TRUE(Schema("shop.bridgetest.Inner").contains("properties"));  // reached through Nested
  EXPECT_EQ(Schema("google.rpc.Status")["properties"]["details"]["items"]["$ref"],
            "#/components/schemas/google.protobuf.Any");
}

TEST_F(OpenApiTest, ResponsesStreamingAndErrors) {
  const auto& get = doc_["paths"]["/v1/echo/{id}"]["get"]["responses"];
  EXPECT_EQ(get["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/shop.bridgetest.EchoResponse");
  EXPECT_EQ(get["default"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/google.rpc.Status");
  const auto& watch = doc_["paths"]["/v1/echo/{id}:watch"]["get"]["responses"]["200"];
  EXPECT_TRUE(watch["content"].contains("application/x-ndjson"));
  const auto& title = doc_["paths"]["/v1/{name}/title"]["get"]["responses"]["200"];
  EXPECT_EQ(title["content"]["application/json"]["schema"], (nlohmann::json{{"type", "string"}}));
  const auto& files = doc_["paths"]["/v1/files/{path}"]["get"]["parameters"][0];
  EXPECT_EQ(files["description"], "pattern: **");
}

}  // namespace
}  // namespace shop::bridge
