#include "services/bridge/path_template.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/validation.h"

namespace shop::bridge {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Characters a literal segment or verb may hold: RFC 3986 unreserved and
// sub-delimiters, without the template's own '*', '=' and ':'.
bool IsLiteralChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("-._~!$&'()+,;@").find(c) != absl::string_view::npos;
}

bool IsIdentStart(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Recursive-descent parser over the template text.
class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::Status Run(std::vector<PathTemplate::Segment>& segments,
                   std::vector<PathTemplate::Variable>& variables, std::string& verb) {
    if (text_.empty() || text_[0] != '/') return Error("must start with '/'");
    ++pos_;
    if (absl::Status s = ParseSegments(segments, variables, /*in_variable=*/false); !s.ok()) {
      return s;
    }
    if (pos_ < text_.size() && text_[pos_] == ':') {
      ++pos_;
      const size_t start = pos_;
      while (pos_ < text_.size() && IsLiteralChar(text_[pos_])) ++pos_;
      if (pos_ == start) return Error("empty custom verb");
      verb = std::string(text_.substr(start, pos_ - start));
    }
    if (pos_ != text_.size())
      return Error(absl::StrCat("unexpected '", text_.substr(pos_, 1), "'"));
    for (size_t i = 0; i < segments.size(); ++i) {
      if (segments[i].kind == PathTemplate::SegmentKind::kMultiWildcard &&
          i + 1 != segments.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("path template \"", text_, "\": '**' must be the last segment"));
      }
    }
    std::set<std::string> names;
    for (const auto& variable : variables) {
      if (!names.insert(variable.field_path).second) {
        return absl::InvalidArgumentError(absl::StrCat("path template \"", text_, "\": variable '",
                                                       variable.field_path, "' appears twice"));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("path template \"", text_, "\": ", what, " at position ", pos_));
  }

  absl::Status ParseSegments(std::vector<PathTemplate::Segment>& segments,
                             std::vector<PathTemplate::Variable>& variables, bool in_variable) {
    while (true) {
      if (absl::Status s = ParseSegment(segments, variables, in_variable); !s.ok()) return s;
      if (pos_ < text_.size() && text_[pos_] == '/') {
        ++pos_;
        continue;
      }
      return absl::OkStatus();
    }
  }

  absl::Status ParseSegment(std::vector<PathTemplate::Segment>& segments,
                            std::vector<PathTemplate::Variable>& variables, bool in_variable) {
    if (pos_ >= text_.size() || text_[pos_] == '/' || text_[pos_] == ':' || text_[pos_] == '}') {
      return Error("empty segment");
    }
    if (text_[pos_] == '{') {
      if (in_variable) return Error("variables cannot be nested");
      return ParseVariable(segments, variables);
    }
    if (text_[pos_] == '*') {
      if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
        pos_ += 2;
        segments.push_back({PathTemplate::SegmentKind::kMultiWildcard, ""});
      } else {
        ++pos_;
        segments.push_back({PathTemplate::SegmentKind::kWildcard, ""});
      }
      if (pos_ < text_.size() && text_[pos_] != '/' && text_[pos_] != ':' && text_[pos_] != '}') {
        return Error("a wildcard must be a whole segment");
      }
      return absl::OkStatus();
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && IsLiteralChar(text_[pos_])) ++pos_;
    if (pos_ == start)
      return Error(
          absl::StrCat("character '", text_.substr(pos_, 1), "' is not allowed in a literal"));
    if (pos_ < text_.size() && text_[pos_] != '/' && text_[pos_] != ':' && text_[pos_] != '}') {
      return Error(
          absl::StrCat("character '", text_.substr(pos_, 1), "' is not allowed in a literal"));
    }
    segments.push_back(
        {PathTemplate::SegmentKind::kLiteral, std::string(text_.substr(start, pos_ - start))});
    return absl::OkStatus();
  }

  absl::Status ParseVariable(std::vector<PathTemplate::Segment>& segments,
                             std::vector<PathTemplate::Variable>& variables) {
    ++pos_;  // '{'
    std::string field_path;
    while (true) {
      if (pos_ >= text_.size() || !IsIdentStart(text_[pos_])) {
        return Error("expected a field name");
      }
      const size_t start = pos_;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      absl::StrAppend(&field_path, field_path.empty() ? "" : ".",
                      text_.substr(start, pos_ - start));
      if (pos_ < text_.size() && text_[pos_] == '.') {
        ++pos_;
        continue;
      }
      break;
    }
    PathTemplate::Variable variable{field_path, segments.size(), 0};
    if (pos_ < text_.size() && text_[pos_] == '=') {
      ++pos_;
      if (absl::Status s = ParseSegments(segments, variables, /*in_variable=*/true); !s.ok()) {
        return s;
      }
    } else {
      segments.push_back({PathTemplate::SegmentKind::kWildcard, ""});
    }
    if (pos_ >= text_.size() || text_[pos_] != '}') return Error("expected '}'");
    ++pos_;
    variable.end_segment = segments.size();
    variables.push_back(std::move(variable));
    return absl::OkStatus();
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

int Rank(PathTemplate::SegmentKind kind) {
  switch (kind) {
    case PathTemplate::SegmentKind::kLiteral:
      return 2;
    case PathTemplate::SegmentKind::kWildcard:
      return 1;
    case PathTemplate::SegmentKind::kMultiWildcard:
      return 0;
  }
  return 0;
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(absl::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int high = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad percent-encoding \"", text.substr(i, 3),
                                                     "\": '%' must be followed by two hex digits"));
    }
    const char decoded = static_cast<char>(high * 16 + low);
    if (keep_slash && decoded == '/') {
      out.append(text.substr(i, 3).data(), 3);
    } else {
      out.push_back(decoded);
    }
    i += 2;
  }
  return out;
}

absl::StatusOr<RequestPath> RequestPath::Parse(absl::string_view raw_path) {
  if (raw_path.empty() || raw_path[0] != '/') {
    return absl::InvalidArgumentError("the request path must start with '/'");
  }
  RequestPath path;
  absl::string_view rest = raw_path.substr(1);
  if (!rest.empty()) path.raw_ = absl::StrSplit(rest, '/');
  for (const std::string& raw : path.raw_) {
    absl::StatusOr<std::string> decoded = PercentDecode(raw);
    if (!decoded.ok()) return decoded.status();
    if (!IsValidUtf8(*decoded)) {
      return absl::InvalidArgumentError("the request path is not valid UTF-8 once decoded");
    }
    path.decoded_.push_back(*std::move(decoded));
  }
  if (!path.raw_.empty()) {
    const std::string& last = path.raw_.back();
    const size_t colon = last.rfind(':');
    if (colon != std::string::npos && colon > 0) {
      path.last_without_verb_raw_ = last.substr(0, colon);
      // Both parts decode because the whole segment did.
      path.last_without_verb_ = *PercentDecode(path.last_without_verb_raw_);
      path.verb_ = *PercentDecode(absl::string_view(last).substr(colon + 1));
    }
  }
  return path;
}

absl::StatusOr<PathTemplate> PathTemplate::Parse(absl::string_view text) {
  PathTemplate result;
  result.text_ = std::string(text);
  Parser parser(text);
  if (absl::Status s = parser.Run(result.segments_, result.variables_, result.verb_); !s.ok()) {
    return s;
  }
  return result;
}

int PathTemplate::literal_count() const {
  int count = verb_.empty() ? 0 : 1;
  for (const Segment& segment : segments_) {
    if (segment.kind == SegmentKind::kLiteral) ++count;
  }
  return count;
}

std::optional<PathBindings> PathTemplate::Match(const RequestPath& path) const {
  if (!verb_.empty() && (!path.verb_.has_value() || *path.verb_ != verb_)) return std::nullopt;
  const size_t count = path.raw_.size();
  // The segment texts this template sees: without the verb when it has one.
  auto raw_at = [&](size_t i) -> absl::string_view {
    if (!verb_.empty() && i + 1 == count) return path.last_without_verb_raw_;
    return path.raw_[i];
  };
  auto decoded_at = [&](size_t i) -> absl::string_view {
    if (!verb_.empty() && i + 1 == count) return path.last_without_verb_;
    return path.decoded_[i];
  };

  // Where each template segment starts in the request (`**` is last, so the
  // mapping is positional up to it).
  size_t consumed = 0;
  std::vector<std::pair<size_t, size_t>> spans;  // request segment range per template segment
  for (const Segment& segment : segments_) {
    switch (segment.kind) {
      case SegmentKind::kLiteral:
        if (consumed >= count || decoded_at(consumed) != segment.literal) return std::nullopt;
        spans.emplace_back(consumed, consumed + 1);
        ++consumed;
        break;
      case SegmentKind::kWildcard:
        if (consumed >= count || decoded_at(consumed).empty()) return std::nullopt;
        spans.emplace_back(consumed, consumed + 1);
        ++consumed;
        break;
      case SegmentKind::kMultiWildcard:
        spans.emplace_back(consumed, count);
        consumed = count;
        break;
    }
  }
  if (consumed != count) return std::nullopt;

  PathBindings bindings;
  for (const Variable& variable : variables_) {
    const size_t first = spans[variable.first_segment].first;
    const size_t end = spans[variable.end_segment - 1].second;
    const bool single = variable.end_segment - variable.first_segment == 1 &&
                        segments_[variable.first_segment].kind != SegmentKind::kMultiWildcard;
    if (single) {
      bindings.emplace_back(variable.field_path, std::string(decoded_at(first)));
      continue;
    }
    std::vector<std::string> parts;
    for (size_t i = first; i < end; ++i) {
      // Decoding succeeded for the whole path, so it succeeds here too.
      parts.push_back(*PercentDecode(raw_at(i), /*keep_slash=*/true));
    }
    bindings.emplace_back(variable.field_path, absl::StrJoin(parts, "/"));
  }
  return bindings;
}

bool PathTemplate::SameShape(const PathTemplate& other) const {
  if (verb_ != other.verb_ || segments_.size() != other.segments_.size()) return false;
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (segments_[i].kind != other.segments_[i].kind ||
        segments_[i].literal != other.segments_[i].literal) {
      return false;
    }
  }
  return true;
}

int PathTemplate::CompareSpecificity(const PathTemplate& other) const {
  if (literal_count() != other.literal_count()) return other.literal_count() - literal_count();
  if (verb_.empty() != other.verb_.empty()) return verb_.empty() ? 1 : -1;
  const size_t n = std::min(segments_.size(), other.segments_.size());
  for (size_t i = 0; i < n; ++i) {
    const int mine = Rank(segments_[i].kind);
    const int theirs = Rank(other.segments_[i].kind);
    if (mine != theirs) return theirs - mine;
  }
  if (segments_.size() != other.segments_.size()) {
    return static_cast<int>(other.segments_.size()) - static_cast<int>(segments_.size());
  }
  return 0;
}

}  // namespace shop::bridge
