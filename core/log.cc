#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <mutex>

namespace shop::log {
namespace {

thread_local std::string thread_trace_id;

struct State {
  std::shared_ptr<spdlog::logger> logger;
  std::string service = "unknown";
};

State& GetState() {
  static State* state = [] {
    auto* s = new State;
    s->logger =
        std::make_shared<spdlog::logger>("shop", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    s->logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})",
                           spdlog::pattern_time_type::utc);
    s->logger->flush_on(spdlog::level::info);
    return s;
  }();
  return *state;
}

void Write(spdlog::level::level_enum level, absl::string_view msg, Fields fields) {
  State& state = GetState();
  if (!state.logger->should_log(level)) return;
  std::string line = "\"service\":\"" + JsonEscape(state.service) + "\"";
  if (!thread_trace_id.empty()) line += ",\"trace_id\":\"" + thread_trace_id + "\"";
  line += ",\"msg\":\"" + JsonEscape(msg) + "\"";
  for (const Field& field : fields) {
    line += ",\"" + JsonEscape(field.key) + "\":";
    line += field.quoted ? "\"" + JsonEscape(field.value) + "\"" : field.value;
  }
  state.logger->log(level, spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace

void Init(absl::string_view service, absl::string_view level) {
  State& state = GetState();
  state.service = std::string(service);
  state.logger->set_level(spdlog::level::from_str(std::string(level)));
}

void Debug(absl::string_view msg, Fields fields) { Write(spdlog::level::debug, msg, fields); }
void Info(absl::string_view msg, Fields fields) { Write(spdlog::level::info, msg, fields); }
void Warn(absl::string_view msg, Fields fields) { Write(spdlog::level::warn, msg, fields); }
void Error(absl::string_view msg, Fields fields) { Write(spdlog::level::err, msg, fields); }

void SetThreadTraceId(absl::string_view trace_id) { thread_trace_id = std::string(trace_id); }
absl::string_view ThreadTraceId() { return thread_trace_id; }

std::string JsonEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace shop::log
