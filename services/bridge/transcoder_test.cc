#include "services/bridge/transcoder.h"

#include <gtest/gtest.h>

#include "core/status.h"
#include "google/rpc/error_details.pb.h"
#include "services/bridge/testdata/bridge_test.pb.h"

namespace shop::bridge {
namespace {

using shop::bridgetest::Book;
using shop::bridgetest::CreateBookRequest;
using shop::bridgetest::EchoRequest;
using shop::bridgetest::UpdateBookRequest;

class TranscoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto table = RouteTable::Build({EchoRequest::descriptor()->file()}, {});
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = *std::move(table);
  }

  // Transcodes an HTTP request into `out`.
  absl::Status Transcode(absl::string_view method, absl::string_view target, absl::string_view body,
                         google::protobuf::Message& out,
                         std::optional<std::string> idempotency_key = std::nullopt) {
    const size_t q = target.find('?');
    absl::StatusOr<RouteMatch> match = table_->Match(method, target.substr(0, q));
    if (!match.ok()) return match.status();
    EXPECT_NE(match->route, nullptr);
    if (match->route == nullptr) return absl::InternalError("405");
    EXPECT_EQ(match->route->method->input_type(), out.GetDescriptor());
    absl::StatusOr<QueryParams> query =
        ParseQueryString(q == absl::string_view::npos ? "" : target.substr(q + 1));
    if (!query.ok()) return query.status();
    HttpRequestParts parts{body, *query, std::move(idempotency_key)};
    return BuildRequestMessage(*match->route, match->bindings, parts, out);
  }

  const Route& RouteFor(absl::string_view method, absl::string_view path) {
    return *table_->Match(method, path)->route;
  }

  // The single field violation of an INVALID_ARGUMENT status, as "field: description".
  static std::string Violation(const absl::Status& status) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    google::rpc::BadRequest bad_request;
    if (!GetDetail(status, bad_request) || bad_request.field_violations_size() != 1) {
      return std::string(status.ToString());
    }
    return bad_request.field_violations(0).field() + ": " +
           bad_request.field_violations(0).description();
  }

  std::unique_ptr<RouteTable> table_;
};

TEST_F(TranscoderTest, WholeBodyAcceptsBothNamesInt64StringsAndEnums) {
  EchoRequest request;
  ASSERT_TRUE(Transcode("POST", "/v1/echo",
                        R"({"id": "e1", "display_name": "proto name", "big": "9007199254740993",
                            "ubig": 18446744073709551615, "color": "GREEN", "colors": ["RED", 2],
                            "nested": {"label": "l", "big": "-5", "inner": {"depth": 2}},
                            "tags": ["a", "b"], "flag": true, "ratio": 0.25,
                            "at": "2024-01-02T03:04:05Z", "blob": "aGk="})",
                        request)
                  .ok());
  EXPECT_EQ(request.id(), "e1");
  EXPECT_EQ(request.display_name(), "proto name");
  EXPECT_EQ(request.big(), 9007199254740993);
  EXPECT_EQ(request.ubig(), 18446744073709551615u);
  EXPECT_EQ(request.color(), shop::bridgetest::GREEN);
  ASSERT_EQ(request.colors_size(), 2);
  EXPECT_EQ(request.colors(1), shop::bridgetest::GREEN);
  EXPECT_EQ(request.nested().big(), -5);
  EXPECT_EQ(request.nested().inner().depth(), 2);
  EXPECT_EQ(request.at().seconds(), 1704164645);
  EXPECT_EQ(request.blob(), "hi");

  EchoRequest camel;
  ASSERT_TRUE(Transcode("POST", "/v1/echo", R"({"displayName": "json name"})", camel).ok());
  EXPECT_EQ(camel.display_name(), "json name");
}

TEST_F(TranscoderTest, EmptyBodyIsAnEmptyMessage) {
  EchoRequest request;
  EXPECT_TRUE(Transcode("POST", "/v1/echo", "", request).ok());
  EXPECT_TRUE(Transcode("POST", "/v1/echo", "  \n", request).ok());
  EXPECT_EQ(request.ByteSizeLong(), 0u);
}

TEST_F(TranscoderTest, MalformedJsonAndWrongTypesAreInvalidArgument) {
  EchoRequest request;
  EXPECT_EQ(Violation(Transcode("POST", "/v1/echo", R"({"id": "e1",)", request)).substr(0, 21),
            "body: malformed JSON:");
  EXPECT_NE(Violation(Transcode("POST", "/v1/echo", R"({"id": "e1"} trailing)", request))
                .find("malformed JSON"),
            std::string::npos);
  EXPECT_EQ(Violation(Transcode("POST", "/v1/echo", R"(["not", "an", "object"])", request)),
            "body: the request body must be a JSON object");
  std::string wrong = Violation(Transcode("POST", "/v1/echo", R"({"count": "many"})", request));
  EXPECT_NE(wrong.find("does not fit shop.bridgetest.EchoRequest"), std::string::npos) << wrong;
  EXPECT_NE(wrong.find("count"), std::string::npos) << wrong;
  std::string unknown = Violation(Transcode("POST", "/v1/echo", R"({"colour": "RED"})", request));
  EXPECT_NE(unknown.find("colour"), std::string::npos) << unknown;
  std::string bad_enum =
      Violation(Transcode("POST", "/v1/echo", R"({"color": "PURPLE"})", request));
  EXPECT_NE(bad_enum.find("PURPLE"), std::string::npos) << bad_enum;
  EXPECT_NE(Violation(Transcode("POST", "/v1/echo", "{\"id\": \"\xff\"}", request)).find("UTF-8"),
            std::string::npos);
}

TEST_F(TranscoderTest, BodyFieldWithPathVariableInsideIt) {
  UpdateBookRequest request;
  ASSERT_TRUE(Transcode("PATCH", "/v1/shelves/s1/books/b1?allow_missing=true",
                        R"({"title": "Dune", "pages": "412"})", request)
                  .ok());
  EXPECT_EQ(request.book().name(), "shelves/s1/books/b1");
  EXPECT_EQ(request.book().title(), "Dune");
  EXPECT_EQ(request.book().pages(), 412);
  EXPECT_TRUE(request.allow_missing());

  UpdateBookRequest same;
  EXPECT_TRUE(
      Transcode("PATCH", "/v1/shelves/s1/books/b1", R"({"name": "shelves/s1/books/b1"})", same)
          .ok());
  UpdateBookRequest conflict;
  EXPECT_EQ(Violation(Transcode("PATCH", "/v1/shelves/s1/books/b1",
                                R"({"name": "shelves/x/books/y"})", conflict)),
            "book.name: path value: another value for this field is already given");
  UpdateBookRequest query_in_body;
  EXPECT_EQ(
      Violation(Transcode("PATCH", "/v1/shelves/s1/books/b1?book.title=x", "{}", query_in_body)),
      "book.title: this field is part of the request body");
  UpdateBookRequest scalar_body;
  EXPECT_NE(Violation(Transcode("PATCH", "/v1/shelves/s1/books/b1", "42", scalar_body))
                .find("does not fit"),
            std::string::npos);
}

TEST_F(TranscoderTest, QueryParametersFillEveryKindOfField) {
  EchoRequest request;
  ASSERT_TRUE(
      Transcode("GET",
                "/v1/echo/e%201?count=-5&big=9007199254740993&ubig=18446744073709551615&flag=true"
                "&ratio=1.5&small=2.5&color=GREEN&tags=a&tags=b+c&numbers=1&numbers=-2&colors=RED"
                "&colors=2&nested.label=x&nested.inner.depth=3&nested.inner.notes=n1&blob=aGk%3D"
                "&at=2024-01-02T03:04:05Z&wait=1.5s&maybe=7&displayName=dn&alpha=z",
                "", request)
          .ok());
  EXPECT_EQ(request.id(), "e 1");
  EXPECT_EQ(request.count(), -5);
  EXPECT_EQ(request.big(), 9007199254740993);
  EXPECT_EQ(request.ubig(), 18446744073709551615u);
  EXPECT_TRUE(request.flag());
  EXPECT_DOUBLE_EQ(request.ratio(), 1.5);
  EXPECT_FLOAT_EQ(request.small(), 2.5f);
  EXPECT_EQ(request.color(), shop::bridgetest::GREEN);
  EXPECT_EQ(std::vector<std::string>(request.tags().begin(), request.tags().end()),
            (std::vector<std::string>{"a", "b c"}));
  EXPECT_EQ(request.numbers_size(), 2);
  EXPECT_EQ(request.numbers(1), -2);
  EXPECT_EQ(request.colors(0), shop::bridgetest::RED);
  EXPECT_EQ(request.colors(1), shop::bridgetest::GREEN);
  EXPECT_EQ(request.nested().label(), "x");
  EXPECT_EQ(request.nested().inner().depth(), 3);
  EXPECT_EQ(request.nested().inner().notes(0), "n1");
  EXPECT_EQ(request.blob(), "hi");
  EXPECT_EQ(request.at().seconds(), 1704164645);
  EXPECT_EQ(request.wait().seconds(), 1);
  EXPECT_EQ(request.wait().nanos(), 500000000);
  EXPECT_EQ(request.maybe().value(), 7);
  EXPECT_EQ(request.display_name(), "dn");
  EXPECT_EQ(request.alpha(), "z");
}

TEST_F(TranscoderTest, BadQueryParametersNameTheParameter) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"nope=1",
       "nope: unknown query parameter ('nope': shop.bridgetest.EchoRequest has no field "
       "'nope')"},
      {"count=1&count=2", "count: given more than once but not repeated"},
      {"id=other", "id: this field is given by the URL path"},
      {"nested=x", "nested: this is a message: give its fields as dotted names"},
      {"labels=x", "labels: map fields cannot be query parameters"},
      {"count=abc", "count: \"abc\" is not a valid int32"},
      {"count=99999999999", "count: \"99999999999\" is not a valid int32"},
      {"ubig=-1", "ubig: \"-1\" is not a valid uint64"},
      {"big=1.5", "big: \"1.5\" is not a valid int64"},
      {"flag=maybe", "flag: \"maybe\" is not a bool (true or false)"},
      {"color=PURPLE", "color: \"PURPLE\" is not a value of shop.bridgetest.Color"},
      {"ratio=fast", "ratio: \"fast\" is not a valid double"},
      {"small=1e39", "small: \"1e39\" is out of range for float"},
      {"blob=***", "blob: \"***\" is not valid base64"},
      {"at=yesterday", "at: \"yesterday\" is not a valid google.protobuf.Timestamp"},
      {"alpha=a&beta=1", "beta: 'alpha' is already set and only one of choice may be"},
      {"nested.inner.nope=1",
       "nested.inner.nope: unknown query parameter ('nested.inner.nope': shop.bridgetest.Inner "
       "has "
       "no field 'nope')"},
  };
  for (const auto& [query, expected] : cases) {
    EchoRequest request;
    EXPECT_EQ(Violation(Transcode("GET", "/v1/echo/e1?" + query, "", request)), expected) << query;
  }
}

TEST_F(TranscoderTest, WholeBodyRoutesTakeNoQueryAndBodylessRoutesNoBody) {
  EchoRequest request;
  EXPECT_EQ(Violation(Transcode("POST", "/v1/echo?count=1", "{}", request)),
            "count: query parameters are not accepted: the body carries the whole request");
  EXPECT_EQ(Violation(Transcode("GET", "/v1/echo/e1", R"({"count": 1})", request)),
            "body: this method takes no request body");
}

TEST_F(TranscoderTest, IdempotencyKeyHeaderFillsTheFieldAndRefusesConflicts) {
  CreateBookRequest create;
  ASSERT_TRUE(Transcode("POST", "/v1/shelves/s1/books", R"({"title": "T"})", create, "key-1").ok());
  EXPECT_EQ(create.idempotency_key(), "key-1");
  EXPECT_EQ(create.parent(), "shelves/s1");
  EXPECT_EQ(create.book().title(), "T");

  CreateBookRequest from_query;
  EXPECT_EQ(Violation(Transcode("POST", "/v1/shelves/s1/books?idempotency_key=key-2", "{}",
                                from_query, "key-1")),
            "idempotency_key: the Idempotency-Key header and the request disagree; send one key");

  EchoRequest same;
  EXPECT_TRUE(Transcode("POST", "/v1/echo", R"({"idempotencyKey": "k"})", same, "k").ok());
  EXPECT_EQ(same.idempotency_key(), "k");
  EchoRequest conflict;
  EXPECT_EQ(
      Violation(Transcode("POST", "/v1/echo", R"({"idempotencyKey": "k"})", conflict, "other")),
      "idempotency_key: the Idempotency-Key header and the request disagree; send one key");

  // A request without such a field ignores the header.
  shop::bridgetest::GetBookRequest get;
  EXPECT_TRUE(Transcode("GET", "/v1/shelves/s1/books/b1", "", get, "k").ok());
  EXPECT_EQ(get.name(), "shelves/s1/books/b1");
}

TEST(ParseQueryStringTest, DecodesAndValidates) {
  EXPECT_EQ(*ParseQueryString("a=1&b=x+y%20z&c&&d=&e=%E2%82%AC"),
            (QueryParams{{"a", "1"}, {"b", "x y z"}, {"c", ""}, {"d", ""}, {"e", "€"}}));
  EXPECT_EQ(*ParseQueryString(""), QueryParams{});
  EXPECT_EQ(ParseQueryString("a=%zz").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseQueryString("a=%").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseQueryString("a=%FF").status().message(),
            "the query string is not valid UTF-8 once decoded");
  EXPECT_EQ(ParseQueryString("=1").status().message(), "a query parameter has no name");
}

TEST_F(TranscoderTest, ResponsesAreProto3JsonWithZeroValuesAndResponseBody) {
  Book book;
  book.set_name("shelves/s1/books/b1");
  book.set_title("Dune");
  book.set_pages(412);
  const Route& whole = RouteFor("GET", "/v1/shelves/s1/books/b1");
  EXPECT_EQ(*ResponseToJson(whole, book),
            R"({"name":"shelves/s1/books/b1","title":"Dune","pages":"412","authors":[]})");
  const Route& title = RouteFor("GET", "/v1/shelves/s1/books/b1/title");
  EXPECT_EQ(*ResponseToJson(title, book), R"("Dune")");

  shop::bridgetest::EchoResponse echo;
  echo.mutable_request()->set_color(shop::bridgetest::RED);
  echo.mutable_request()->set_display_name("d");
  const std::string json = *ResponseToJson(RouteFor("GET", "/v1/echo/e1"), echo);
  EXPECT_NE(json.find(R"("color":"RED")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("displayName":"d")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("callNumber":"0")"), std::string::npos) << json;
}

TEST(SetFieldFromTextTest, ConvertsAndRefusesConflicts) {
  EchoRequest request;
  const auto* type = EchoRequest::descriptor();
  FieldPath count = *ResolveFieldPath(type, "count");
  ASSERT_TRUE(SetFieldFromText(request, count, "7", /*refuse_conflict=*/true).ok());
  EXPECT_TRUE(SetFieldFromText(request, count, "7", /*refuse_conflict=*/true).ok());
  EXPECT_EQ(SetFieldFromText(request, count, "8", /*refuse_conflict=*/true).message(),
            "another value for this field is already given");
  ASSERT_TRUE(SetFieldFromText(request, *ResolveFieldPath(type, "color"), "2", true).ok());
  EXPECT_EQ(request.color(), shop::bridgetest::GREEN);
  // Proto3 enums are open: unknown numbers are kept.
  ASSERT_TRUE(SetFieldFromText(request, *ResolveFieldPath(type, "colors"), "9", true).ok());
  EXPECT_EQ(request.colors(0), 9);
  EXPECT_FALSE(AcceptsTextValue(type->FindFieldByName("nested")));
  EXPECT_TRUE(AcceptsTextValue(type->FindFieldByName("at")));
  EXPECT_TRUE(AcceptsTextValue(type->FindFieldByName("maybe")));
  EXPECT_FALSE(AcceptsTextValue(type->FindFieldByName("labels")));
}

}  // namespace
}  // namespace shop::bridge
