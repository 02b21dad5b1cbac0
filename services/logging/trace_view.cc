#include "services/logging/trace_view.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "nlohmann/json.hpp"

namespace shop::logging {
namespace {

using google::protobuf::util::TimeUtil;
using shop::v1::AuditEvent;
using shop::v1::TraceSpan;

int64_t StartNanos(const AuditEvent& e) { return TimeUtil::TimestampToNanoseconds(e.start_time()); }

struct Node {
  const AuditEvent* event;
  std::vector<Node*> children;
};

void Fill(const Node& node, TraceSpan* out) {
  *out->mutable_event() = *node.event;
  for (const Node* child : node.children) Fill(*child, out->add_children());
}

}  // namespace

shop::v1::GetTraceResponse BuildTraceTrees(std::vector<AuditEvent> events) {
  std::stable_sort(events.begin(), events.end(), [](const AuditEvent& a, const AuditEvent& b) {
    return StartNanos(a) < StartNanos(b);
  });
  std::vector<Node> nodes;
  nodes.reserve(events.size());
  std::unordered_map<std::string, Node*> by_span;  // key: trace_id/span_id
  for (const AuditEvent& event : events) {
    std::string key = event.trace_id() + "/" + event.span_id();
    if (by_span.count(key) > 0) continue;
    nodes.push_back(Node{&event, {}});
    by_span[key] = &nodes.back();
  }
  shop::v1::GetTraceResponse response;
  std::set<std::string> trace_ids;
  std::vector<Node*> roots;
  for (Node& node : nodes) {
    trace_ids.insert(node.event->trace_id());
    auto parent = by_span.find(node.event->trace_id() + "/" + node.event->parent_span_id());
    if (!node.event->parent_span_id().empty() && parent != by_span.end() &&
        parent->second != &node) {
      parent->second->children.push_back(&node);
    } else {
      roots.push_back(&node);
    }
  }
  for (const Node* root : roots) Fill(*root, response.add_roots());
  for (const std::string& id : trace_ids) response.add_trace_ids(id);
  response.set_span_count(static_cast<int32_t>(nodes.size()));
  return response;
}

std::string ToOtlpJson(const std::vector<AuditEvent>& events) {
  using nlohmann::json;
  auto string_attr = [](const std::string& key, const std::string& value) {
    return json{{"key", key}, {"value", {{"stringValue", value}}}};
  };
  std::set<std::string> span_keys;
  for (const AuditEvent& e : events) {
    if (e.kind() != shop::v1::EVENT_KIND_BUSINESS)
      span_keys.insert(e.trace_id() + "/" + e.span_id());
  }
  // Business events attached to their parent span.
  std::map<std::string, json> span_events;
  for (const AuditEvent& e : events) {
    if (e.kind() != shop::v1::EVENT_KIND_BUSINESS) continue;
    std::string parent = e.trace_id() + "/" + e.parent_span_id();
    if (span_keys.count(parent) == 0) continue;
    json attributes = json::array();
    for (const auto& [k, v] :
         std::map<std::string, std::string>(e.attributes().begin(), e.attributes().end())) {
      attributes.push_back(string_attr(k, v));
    }
    if (!e.order_id().empty()) attributes.push_back(string_attr("shop.order_id", e.order_id()));
    span_events[parent].push_back({{"timeUnixNano", std::to_string(StartNanos(e))},
                                   {"name", e.name()},
                                   {"attributes", attributes}});
  }
  std::map<std::string, json> spans_by_service;
  for (const AuditEvent& e : events) {
    const std::string key = e.trace_id() + "/" + e.span_id();
    if (e.kind() == shop::v1::EVENT_KIND_BUSINESS &&
        span_keys.count(e.trace_id() + "/" + e.parent_span_id()) > 0) {
      continue;
    }
    int kind = 1;  // SPAN_KIND_INTERNAL
    if (e.kind() == shop::v1::EVENT_KIND_SERVER_SPAN) kind = 2;
    if (e.kind() == shop::v1::EVENT_KIND_CLIENT_SPAN) kind = 3;
    json attributes = json::array();
    for (const auto& [k, v] :
         std::map<std::string, std::string>(e.attributes().begin(), e.attributes().end())) {
      if (k == "rpc.grpc.status_code") {
        attributes.push_back({{"key", k}, {"value", {{"intValue", v}}}});
      } else {
        attributes.push_back(string_attr(k, v));
      }
    }
    if (!e.caller().empty()) attributes.push_back(string_attr("shop.caller", e.caller()));
    if (!e.order_id().empty()) attributes.push_back(string_attr("shop.order_id", e.order_id()));
    if (!e.customer_id().empty()) attributes.push_back(string_attr("enduser.id", e.customer_id()));
    if (!e.peer_address().empty()) {
      attributes.push_back(string_attr("network.peer.address", e.peer_address()));
    }
    attributes.push_back(string_attr("shop.event_id", e.event_id()));
    json span = {
        {"traceId", e.trace_id()},
        {"spanId", e.span_id()},
        {"name", e.name()},
        {"kind", kind},
        {"startTimeUnixNano", std::to_string(StartNanos(e))},
        {"endTimeUnixNano", std::to_string(TimeUtil::TimestampToNanoseconds(e.end_time()))},
        {"attributes", attributes}};
    if (!e.parent_span_id().empty()) span["parentSpanId"] = e.parent_span_id();
    if (e.status_code() != 0) {
      span["status"] = {{"code", 2}, {"message", e.status_message()}};
    } else {
      span["status"] = json::object();
    }
    if (auto it = span_events.find(key); it != span_events.end()) span["events"] = it->second;
    spans_by_service[e.service()].push_back(std::move(span));
  }
  json resource_spans = json::array();
  for (auto& [service, spans] : spans_by_service) {
    resource_spans.push_back(
        {{"resource", {{"attributes", json::array({string_attr("service.name", service)})}}},
         {"scopeSpans",
          json::array({{{"scope", {{"name", "shopmesh"}}}, {"spans", std::move(spans)}}})}});
  }
  return json{{"resourceSpans", resource_spans}}.dump();
}

}  // namespace shop::logging
