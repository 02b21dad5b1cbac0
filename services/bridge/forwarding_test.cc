#include "services/bridge/forwarding.h"

#include <gtest/gtest.h>

#include <map>

#include "core/trace.h"

namespace shop::bridge {
namespace {

constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(ParseGrpcTimeoutTest, AcceptsEveryUnitAndRefusesTheRest) {
  EXPECT_EQ(*ParseGrpcTimeout("500m"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseGrpcTimeout("10S"), absl::Seconds(10));
  EXPECT_EQ(*ParseGrpcTimeout("2M"), absl::Minutes(2));
  EXPECT_EQ(*ParseGrpcTimeout("1H"), absl::Hours(1));
  EXPECT_EQ(*ParseGrpcTimeout("7u"), absl::Microseconds(7));
  EXPECT_EQ(*ParseGrpcTimeout("99999999n"), absl::Nanoseconds(99999999));
  for (absl::string_view bad :
       {"", "m", "10", "10s", "123456789S", "-1S", "+1S", " 1S", "1.5S", "abcS"}) {
    absl::StatusOr<absl::Duration> parsed = ParseGrpcTimeout(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PrepareOutgoingCallTest, ForwardsAuthorizationMetadataAndStripsInternalHeaders) {
  const HeaderList headers = {
      {"Authorization", "Bearer t0k"},
      {"Grpc-Metadata-Foo", "bar"},
      {"grpc-metadata-trace-bin", "AAEC"},
      {"X-Shop-Customer-Id", "mallory"},
      {"Grpc-Metadata-X-Shop-Customer-Id", "mallory"},
      {"Grpc-Metadata-X-Shop-Authz", "allow"},
      {"Grpc-Metadata-Grpc-Status", "0"},
      {"Grpc-Metadata-Content-Type", "text/plain"},
      {"Cookie", "session=1"},
      {"Content-Type", "application/json"},
  };
  CallTrace trace = ContinueOrStartTrace(headers);
  absl::StatusOr<OutgoingCall> call = PrepareOutgoingCall(headers, trace, {});
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->metadata, (HeaderList{{"authorization", "Bearer t0k"},
                                        {"foo", "bar"},
                                        {"trace-bin", std::string("\x00\x01\x02", 3)},
                                        {"traceparent", trace.traceparent}}));
  EXPECT_EQ(call->timeout, absl::Seconds(10));
}

TEST(PrepareOutgoingCallTest, TimeoutsAreCappedAndDefaulted) {
  ForwardingOptions options{absl::Seconds(3), absl::Seconds(20)};
  CallTrace trace = ContinueOrStartTrace({});
  EXPECT_EQ(PrepareOutgoingCall({}, trace, options)->timeout, absl::Seconds(3));
  EXPECT_EQ(PrepareOutgoingCall({{"Grpc-Timeout", "500m"}}, trace, options)->timeout,
            absl::Milliseconds(500));
  EXPECT_EQ(PrepareOutgoingCall({{"grpc-timeout", "1H"}}, trace, options)->timeout,
            absl::Seconds(20));
  EXPECT_EQ(PrepareOutgoingCall({{"Grpc-Timeout", "0S"}}, trace, options).status().message(),
            "Grpc-Timeout must be positive");
  EXPECT_EQ(PrepareOutgoingCall({{"Grpc-Timeout", "soon"}}, trace, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PrepareOutgoingCallTest, RefusesWhatGrpcCannotCarry) {
  CallTrace trace = ContinueOrStartTrace({});
  EXPECT_EQ(
      PrepareOutgoingCall({{"Grpc-Metadata-Foo", "caf\xc3\xa9"}}, trace, {}).status().message(),
      "header Grpc-Metadata-Foo: the value has characters gRPC cannot carry");
  EXPECT_EQ(PrepareOutgoingCall({{"Grpc-Metadata-Fo o", "x"}}, trace, {}).status().message(),
            "header Grpc-Metadata-Fo o: \"fo o\" is not a valid gRPC metadata key");
  EXPECT_EQ(PrepareOutgoingCall({{"Grpc-Metadata-Foo-Bin", "!!"}}, trace, {}).status().message(),
            "header Grpc-Metadata-Foo-Bin: the value is not base64");
  EXPECT_EQ(PrepareOutgoingCall({{"Authorization", "a\nb"}}, trace, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ContinueOrStartTraceTest, ContinuesTheCallersTraceWithASpanOfItsOwn) {
  CallTrace continued =
      ContinueOrStartTrace({{"TraceParent", kTraceparent}, {"tracestate", "a=1"}});
  EXPECT_EQ(continued.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(continued.parent_span_id, "00f067aa0ba902b7");
  EXPECT_EQ(continued.span_id.size(), 16u);
  EXPECT_NE(continued.span_id, "00f067aa0ba902b7");
  EXPECT_EQ(continued.traceparent, FormatTraceparent(continued.trace_id, continued.span_id));
  EXPECT_EQ(continued.tracestate, "a=1");
  // The backend gets the bridge's span as its parent, and the caller's tracestate.
  absl::StatusOr<OutgoingCall> call = PrepareOutgoingCall({}, continued, {});
  EXPECT_EQ(call->metadata,
            (HeaderList{{"traceparent", continued.traceparent}, {"tracestate", "a=1"}}));
  EXPECT_NE(ContinueOrStartTrace({{"traceparent", kTraceparent}}).span_id,
            ContinueOrStartTrace({{"traceparent", kTraceparent}}).span_id);
}

TEST(ContinueOrStartTraceTest, StartsATraceWithoutAValidTraceparent) {
  for (const HeaderList& headers :
       {HeaderList{}, HeaderList{{"traceparent", "garbage"}, {"tracestate", "a=1"}},
        HeaderList{{"traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}}}) {
    CallTrace fresh = ContinueOrStartTrace(headers);
    std::optional<TraceContext> parsed = ParseTraceparent(fresh.traceparent);
    ASSERT_TRUE(parsed.has_value()) << fresh.traceparent;
    EXPECT_EQ(parsed->trace_id, fresh.trace_id);
    EXPECT_EQ(parsed->span_id, fresh.span_id);
    EXPECT_NE(fresh.trace_id, "00000000000000000000000000000000");
    EXPECT_TRUE(fresh.parent_span_id.empty());
    EXPECT_TRUE(fresh.tracestate.empty());
  }
  EXPECT_NE(ContinueOrStartTrace({}).trace_id, ContinueOrStartTrace({}).trace_id);
}

HttpServerSpan ExampleSpan() {
  HttpServerSpan span;
  span.trace = ContinueOrStartTrace({{"traceparent", kTraceparent}});
  span.start_time = absl::FromUnixMillis(1700000000000);
  span.end_time = span.start_time + absl::Milliseconds(12);
  span.http_method = "GET";
  span.route = "/v1/orders/{order_id}";
  span.grpc_method = "/shop.v1.CustomerService/GetOrder";
  span.path = "/v1/orders/ord_1";
  span.peer_address = "192.0.2.7:51234";
  span.user_agent = "shop-web/1.0";
  span.order_id = "ord_1";
  span.http_status = 404;
  span.code = 5;
  span.message = "order ord_1 not found";
  return span;
}

TEST(ServerSpanEventTest, IsAServerSpanNamedByItsRoute) {
  const HttpServerSpan span = ExampleSpan();
  shop::v1::AuditEvent event = ServerSpanEvent(span);
  EXPECT_EQ(event.event_id().size(), 36u);
  EXPECT_EQ(event.kind(), shop::v1::EVENT_KIND_SERVER_SPAN);
  EXPECT_EQ(event.service(), "bridge");
  EXPECT_EQ(event.name(), "GET /v1/orders/{order_id}");
  EXPECT_EQ(event.start_time().seconds(), 1700000000);
  EXPECT_EQ(event.end_time().nanos(), 12000000);
  EXPECT_EQ(event.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(event.parent_span_id(), "00f067aa0ba902b7");
  EXPECT_EQ(event.span_id(), span.trace.span_id);
  EXPECT_EQ(event.peer_address(), "192.0.2.7:51234");
  EXPECT_EQ(event.order_id(), "ord_1");
  EXPECT_EQ(event.status_code(), 5);
  EXPECT_EQ(event.status_message(), "order ord_1 not found");
  EXPECT_TRUE(event.caller().empty());
  EXPECT_TRUE(event.customer_id().empty());
  const std::map<std::string, std::string> attributes(event.attributes().begin(),
                                                      event.attributes().end());
  EXPECT_EQ(attributes,
            (std::map<std::string, std::string>({{"http.request.method", "GET"},
                                                 {"http.route", "/v1/orders/{order_id}"},
                                                 {"url.path", "/v1/orders/ord_1"},
                                                 {"http.response.status_code", "404"},
                                                 {"user_agent.original", "shop-web/1.0"},
                                                 {"rpc.system", "grpc"},
                                                 {"rpc.service", "shop.v1.CustomerService"},
                                                 {"rpc.method", "GetOrder"}})));
}

TEST(ServerSpanEventTest, UnmatchedRequestsKeepNamesFewAndTextSafe) {
  HttpServerSpan span = ExampleSpan();
  span.http_method = "BREW";
  span.route.clear();
  span.grpc_method.clear();
  span.order_id = "not an id";
  span.path = "/v1/pots/\xff caf\xc3\xa9/" + std::string(400, 'a');
  span.user_agent = std::string("bot\x01\xc3", 5) + std::string(300, 'b');
  span.message = std::string(1001, 'x') + "\xc3\xa9\xc3\xa9\xc3\xa9";  // 1007 bytes
  shop::v1::AuditEvent event = ServerSpanEvent(span);
  EXPECT_EQ(event.name(), "_OTHER <unmatched>");
  EXPECT_TRUE(event.order_id().empty());
  const auto& attributes = event.attributes();
  EXPECT_EQ(attributes.at("http.request.method"), "_OTHER");
  EXPECT_EQ(attributes.at("http.request.method_original"), "BREW");
  EXPECT_EQ(attributes.count("http.route"), 0u);
  EXPECT_EQ(attributes.count("rpc.system"), 0u);
  EXPECT_EQ(attributes.at("url.path").size(), 256u);
  EXPECT_EQ(attributes.at("url.path").substr(0, 27), "/v1/pots/%FF%20caf%C3%A9/aa");
  EXPECT_EQ(attributes.at("user_agent.original").size(), 256u);
  EXPECT_EQ(attributes.at("user_agent.original").substr(0, 6), "bot??b");
  EXPECT_EQ(event.status_message(), span.message);

  span.message +=
      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
  // Cut to 1024 bytes or less, never inside a character.
  EXPECT_EQ(ServerSpanEvent(span).status_message(), span.message.substr(0, 1023));
  span.message = std::string("bad\xff\0utf", 8);
  EXPECT_EQ(ServerSpanEvent(span).status_message(), "bad??utf");
  // A span the bridge started has no parent.
  span.trace = ContinueOrStartTrace({});
  EXPECT_TRUE(ServerSpanEvent(span).parent_span_id().empty());
  EXPECT_NE(ServerSpanEvent(span).event_id(), ServerSpanEvent(span).event_id());
}

TEST(ResponseHeadersTest, BackendMetadataBecomesPrefixedHeaders) {
  HeaderList headers =
      ResponseHeadersFromMetadata({{"x-request-id", "r1"},
                                   {"x-shop-span", "secret"},
                                   {"content-type", "application/grpc"},
                                   {"blob-bin", std::string("\x00\xff", 2)}},
                                  {{"x-took-ms", "5"}, {"grpc-status-details-bin", "..."}});
  EXPECT_EQ(headers, (HeaderList{{"Grpc-Metadata-X-Request-Id", "r1"},
                                 {"Grpc-Metadata-Blob-Bin", "AP8="},
                                 {"Grpc-Trailer-X-Took-Ms", "5"}}));
}

TEST(CorsPolicyTest, ExactOriginsGetCredentialsWildcardDoesNot) {
  auto exact = CorsPolicy::Create({"https://a.example", " https://b.example:8443 "});
  ASSERT_TRUE(exact.ok());
  EXPECT_TRUE(exact->enabled());
  EXPECT_TRUE(exact->Allows("https://b.example:8443"));
  EXPECT_FALSE(exact->Allows("https://c.example"));
  EXPECT_FALSE(exact->Allows(""));
  EXPECT_EQ(exact->ResponseHeaders("https://a.example", {"traceparent", "Grpc-Metadata-X"}),
            (HeaderList{{"Access-Control-Allow-Origin", "https://a.example"},
                        {"Access-Control-Allow-Credentials", "true"},
                        {"Vary", "Origin"},
                        {"Access-Control-Expose-Headers", "traceparent, Grpc-Metadata-X"}}));
  EXPECT_TRUE(exact->ResponseHeaders("https://c.example", {}).empty());

  auto any = CorsPolicy::Create({"*"});
  EXPECT_EQ(any->ResponseHeaders("https://z.example", {}),
            (HeaderList{{"Access-Control-Allow-Origin", "*"}, {"Vary", "Origin"}}));
  EXPECT_FALSE(CorsPolicy::Create({}).value().enabled());
  for (const std::string bad :
       {"a.example", "https://", "https://a.example/path", "ftp://a.example"}) {
    EXPECT_EQ(CorsPolicy::Create({bad}).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(CorsPolicyTest, PreflightListsMethodsHeadersAndMaxAge) {
  auto policy = CorsPolicy::Create({"https://a.example"});
  HeaderList headers = policy->PreflightHeaders("https://a.example", {"GET", "POST"},
                                                "Content-Type, Grpc-Metadata-Foo, X-Other");
  EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"Access-Control-Allow-Origin",
                                                             "https://a.example"}));
  std::map<std::string, std::string> by_name(headers.begin(), headers.end());
  EXPECT_EQ(by_name["Access-Control-Allow-Methods"], "GET, POST");
  EXPECT_EQ(by_name["Access-Control-Allow-Headers"],
            "authorization, content-type, idempotency-key, grpc-timeout, traceparent, tracestate, "
            "grpc-metadata-foo");
  EXPECT_EQ(by_name["Access-Control-Max-Age"], "600");
}

}  // namespace
}  // namespace shop::bridge
