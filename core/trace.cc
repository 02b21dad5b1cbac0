#include "core/trace.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/ids.h"
#include "core/log.h"

namespace shop {
namespace {

thread_local const TraceContext* current_trace = nullptr;

bool IsLowerHex(absl::string_view s, size_t len) {
  if (s.size() != len) return false;
  bool all_zero = true;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    if (c != '0') all_zero = false;
  }
  return !all_zero;
}

}  // namespace

std::string NewTraceId() { return RandomHex(16); }
std::string NewSpanId() { return RandomHex(8); }

std::optional<TraceContext> ParseTraceparent(absl::string_view header) {
  std::vector<absl::string_view> parts = absl::StrSplit(header, '-');
  if (parts.size() < 4 || parts[0].size() != 2 || parts[0] == "ff") return std::nullopt;
  if (parts[0] == "00" && parts.size() != 4) return std::nullopt;
  if (!IsLowerHex(parts[1], 32) || !IsLowerHex(parts[2], 16) || parts[3].size() != 2) {
    return std::nullopt;
  }
  TraceContext trace;
  trace.trace_id = std::string(parts[1]);
  trace.span_id = std::string(parts[2]);
  return trace;
}

std::string FormatTraceparent(absl::string_view trace_id, absl::string_view span_id) {
  return absl::StrCat("00-", trace_id, "-", span_id, "-01");
}

std::string EncodeServerSpan(const TraceContext& trace) {
  return absl::StrCat(trace.trace_id, ":", trace.span_id, ":", trace.parent_span_id);
}

std::optional<TraceContext> DecodeServerSpan(absl::string_view value) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, ':');
  if (parts.size() != 3 || !IsLowerHex(parts[0], 32) || !IsLowerHex(parts[1], 16)) {
    return std::nullopt;
  }
  TraceContext trace{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]), ""};
  return trace;
}

const TraceContext* CurrentTrace() { return current_trace; }

void SetCurrentTrace(const TraceContext* trace) {
  current_trace = trace;
  log::SetThreadTraceId(trace != nullptr ? trace->trace_id : "");
}

}  // namespace shop
