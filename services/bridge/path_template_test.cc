#include "services/bridge/path_template.h"

#include <gtest/gtest.h>

namespace shop::bridge {
namespace {

using Bindings = PathBindings;

PathTemplate MustParse(absl::string_view text) {
  absl::StatusOr<PathTemplate> parsed = PathTemplate::Parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status();
  return parsed.ok() ? *parsed : PathTemplate();
}

std::optional<Bindings> MatchPath(absl::string_view templ, absl::string_view path) {
  absl::StatusOr<RequestPath> request = RequestPath::Parse(path);
  EXPECT_TRUE(request.ok()) << path << ": " << request.status();
  if (!request.ok()) return std::nullopt;
  return MustParse(templ).Match(*request);
}

TEST(PathTemplateTest, ParsesSegmentsVariablesAndVerb) {
  PathTemplate t = MustParse("/v1/{name=shelves/*/books/*}:publish");
  ASSERT_EQ(t.segments().size(), 5u);
  EXPECT_EQ(t.segments()[0].literal, "v1");
  EXPECT_EQ(t.segments()[2].kind, PathTemplate::SegmentKind::kWildcard);
  ASSERT_EQ(t.variables().size(), 1u);
  EXPECT_EQ(t.variables()[0].field_path, "name");
  EXPECT_EQ(t.variables()[0].first_segment, 1u);
  EXPECT_EQ(t.variables()[0].end_segment, 5u);
  EXPECT_EQ(t.verb(), "publish");
  EXPECT_EQ(t.literal_count(), 4);  // v1, shelves, books and the verb
}

TEST(PathTemplateTest, ParsesNestedFieldPathsAndMultiWildcards) {
  PathTemplate t = MustParse("/v1/{book.name}/files/{path=**}");
  ASSERT_EQ(t.variables().size(), 2u);
  EXPECT_EQ(t.variables()[0].field_path, "book.name");
  EXPECT_EQ(t.segments().back().kind, PathTemplate::SegmentKind::kMultiWildcard);
  EXPECT_TRUE(PathTemplate::Parse("/v1/*/x/**").ok());
}

TEST(PathTemplateTest, RefusesMalformedTemplates) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "must start with '/'"},
      {"v1/x", "must start with '/'"},
      {"/v1//x", "empty segment"},
      {"/v1/x/", "empty segment"},
      {"/v1/{id", "expected '}'"},
      {"/v1/{}", "expected a field name"},
      {"/v1/{1id}", "expected a field name"},
      {"/v1/{a={b}}", "variables cannot be nested"},
      {"/v1/**/x", "'**' must be the last segment"},
      {"/v1/{a=**}/{b}", "'**' must be the last segment"},
      {"/v1/{a}/{a}", "variable 'a' appears twice"},
      {"/v1/a*b", "not allowed in a literal"},
      {"/v1/*b", "a wildcard must be a whole segment"},
      {"/v1/x:", "empty custom verb"},
      {"/v1/x:a/b", "unexpected '/'"},
      {"/v1/x y", "not allowed in a literal"},
      {"/v1/{a=x:y}", "expected '}'"},
  };
  for (const auto& [text, message] : cases) {
    absl::StatusOr<PathTemplate> parsed = PathTemplate::Parse(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(parsed.status().message().find(message), absl::string_view::npos)
        << text << ": " << parsed.status().message();
  }
}

TEST(PathTemplateTest, MatchesLiteralsAndSingleVariables) {
  EXPECT_EQ(MatchPath("/v1/orders/{order_id}", "/v1/orders/ord_1"),
            (Bindings{{"order_id", "ord_1"}}));
  EXPECT_EQ(MatchPath("/v1/orders", "/v1/orders"), Bindings{});
  EXPECT_FALSE(MatchPath("/v1/orders/{order_id}", "/v1/orders").has_value());
  EXPECT_FALSE(MatchPath("/v1/orders/{order_id}", "/v1/orders/").has_value());
  EXPECT_FALSE(MatchPath("/v1/orders/{order_id}", "/v1/orders/a/b").has_value());
  EXPECT_FALSE(MatchPath("/v1/orders", "/v2/orders").has_value());
  EXPECT_FALSE(MatchPath("/v1/orders", "/v1/orders/").has_value());
}

TEST(PathTemplateTest, DecodesSingleSegmentVariablesFully) {
  EXPECT_EQ(MatchPath("/v1/x/{id}", "/v1/x/a%20b%2Fc%3A"), (Bindings{{"id", "a b/c:"}}));
  EXPECT_EQ(MatchPath("/v1/x/{id}", "/v1/x/caf%C3%A9"), (Bindings{{"id", "café"}}));
  // Literals compare decoded.
  EXPECT_TRUE(MatchPath("/v1/orders", "/v1/%6Frders").has_value());
}

TEST(PathTemplateTest, MultiSegmentVariablesKeepEncodedSlashes) {
  EXPECT_EQ(MatchPath("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/books/b%2F2%20x"),
            (Bindings{{"name", "shelves/s1/books/b%2F2 x"}}));
  EXPECT_FALSE(MatchPath("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/authors/a").has_value());
  EXPECT_EQ(MatchPath("/v1/files/{path=**}", "/v1/files/a/b/c.txt"),
            (Bindings{{"path", "a/b/c.txt"}}));
  EXPECT_EQ(MatchPath("/v1/files/{path=**}", "/v1/files"), (Bindings{{"path", ""}}));
  EXPECT_TRUE(MatchPath("/v1/*/x/**", "/v1/a/x/b/c").has_value());
  EXPECT_FALSE(MatchPath("/v1/*/x/**", "/v1/a/y/b").has_value());
}

TEST(PathTemplateTest, MatchesCustomVerbs) {
  EXPECT_EQ(MatchPath("/v1/orders/{order_id}:cancel", "/v1/orders/o1:cancel"),
            (Bindings{{"order_id", "o1"}}));
  EXPECT_FALSE(MatchPath("/v1/orders/{order_id}:cancel", "/v1/orders/o1").has_value());
  EXPECT_FALSE(MatchPath("/v1/orders/{order_id}:cancel", "/v1/orders/o1:refund").has_value());
  // Without a verb in the template, the colon is part of the segment.
  EXPECT_EQ(MatchPath("/v1/orders/{order_id}", "/v1/orders/o1:cancel"),
            (Bindings{{"order_id", "o1:cancel"}}));
  EXPECT_EQ(MatchPath("/v1/{name=**}:undelete", "/v1/a/b:undelete"), (Bindings{{"name", "a/b"}}));
  EXPECT_TRUE(MatchPath("/v1/orders:batchGet", "/v1/orders:batchGet").has_value());
}

TEST(PathTemplateTest, RequestPathRefusesBadEncodingAndInvalidUtf8) {
  for (absl::string_view bad : {"/v1/x/%", "/v1/x/%4", "/v1/x/%zz", "/v1/x/a%G1"}) {
    absl::StatusOr<RequestPath> path = RequestPath::Parse(bad);
    ASSERT_FALSE(path.ok()) << bad;
    EXPECT_EQ(path.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(path.status().message().find("percent-encoding"), absl::string_view::npos);
  }
  for (absl::string_view bad : {"/v1/x/%FF", "/v1/x/%C3", "/v1/\xff"}) {
    absl::StatusOr<RequestPath> path = RequestPath::Parse(bad);
    ASSERT_FALSE(path.ok()) << bad;
    EXPECT_NE(path.status().message().find("UTF-8"), absl::string_view::npos);
  }
  EXPECT_FALSE(RequestPath::Parse("v1/x").ok());
  EXPECT_FALSE(RequestPath::Parse("").ok());
}

TEST(PathTemplateTest, SpecificityPrefersLiteralsThenVerbsThenLeftmostLiterals) {
  auto cmp = [](absl::string_view a, absl::string_view b) {
    return MustParse(a).CompareSpecificity(MustParse(b));
  };
  EXPECT_LT(cmp("/v1/echo/special", "/v1/echo/{id}"), 0);
  EXPECT_GT(cmp("/v1/echo/{id}", "/v1/echo/special"), 0);
  EXPECT_LT(cmp("/v1/echo/{id}:watch", "/v1/echo/{id}"), 0);
  EXPECT_LT(cmp("/v1/a/{x}", "/v1/{x}/b"), 0);  // same literal count: leftmost literal wins
  EXPECT_LT(cmp("/v1/{a}/{b}", "/v1/{a=**}"), 0);
  EXPECT_EQ(cmp("/v1/{a}", "/v1/{b}"), 0);
  EXPECT_TRUE(MustParse("/v1/{a}").SameShape(MustParse("/v1/{b}")));
  EXPECT_FALSE(MustParse("/v1/{a}").SameShape(MustParse("/v1/{a}:x")));
}

TEST(PercentDecodeTest, KeepsSlashOnlyWhenAsked) {
  EXPECT_EQ(*PercentDecode("a%2Fb%2fc"), "a/b/c");
  EXPECT_EQ(*PercentDecode("a%2Fb%2fc%20", /*keep_slash=*/true), "a%2Fb%2fc ");
  EXPECT_FALSE(PercentDecode("%").ok());
}

}  // namespace
}  // namespace shop::bridge
