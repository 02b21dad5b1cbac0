// Structured JSON logging on stderr (one object per line) through spdlog.
// Every line carries the service name and, inside an RPC, the trace id.
#ifndef SHOP_CORE_LOG_H_
#define SHOP_CORE_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace shop::log {

struct Field {
  Field(absl::string_view k, absl::string_view v) : key(k), value(v), quoted(true) {}
  Field(absl::string_view k, const char* v) : key(k), value(v), quoted(true) {}
  Field(absl::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  Field(absl::string_view k, int64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(absl::string_view k, int v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(absl::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}
  absl::string_view key;
  std::string value;
  bool quoted;
};
using Fields = std::initializer_list<Field>;

// Sets the service name and the minimum level ("debug", "info", "warn",
// "error"). Safe to call once at start; logging works (as "unknown") before.
void Init(absl::string_view service, absl::string_view level = "info");

void Debug(absl::string_view msg, Fields fields = {});
void Info(absl::string_view msg, Fields fields = {});
void Warn(absl::string_view msg, Fields fields = {});
void Error(absl::string_view msg, Fields fields = {});

// The trace id stamped on this thread's log lines (set per RPC by
// shop::ScopedTrace); empty outside an RPC.
void SetThreadTraceId(absl::string_view trace_id);
absl::string_view ThreadTraceId();

// JSON string escaping, exposed for tests and other writers.
std::string JsonEscape(absl::string_view text);

}  // namespace shop::log

#endif  // SHOP_CORE_LOG_H_
