// google.api.http path templates: parsing and validation at start-up, and
// matching of request paths (percent-decoded per segment) with the bindings of
// their variables.
//
// Grammar (google/api/http.proto):
//   Template = "/" Segments [ Verb ] ;
//   Segments = Segment { "/" Segment } ;
//   Segment  = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;
//   FieldPath = IDENT { "." IDENT } ;
//   Verb     = ":" LITERAL ;
// `**` matches zero or more segments and must be the last segment; `{f}` is
// `{f=*}`. A single-segment variable's value is fully percent-decoded; a
// multi-segment one keeps "%2F" encoded so that its '/' stay unambiguous.
#ifndef SHOP_SERVICES_BRIDGE_PATH_TEMPLATE_H_
#define SHOP_SERVICES_BRIDGE_PATH_TEMPLATE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shop::bridge {

// (field path, value) for each variable of a matched template, in template
// order; the field path is dotted ("book.name").
using PathBindings = std::vector<std::pair<std::string, std::string>>;

// A request path split into segments once, then matched against every
// template. Fails (INVALID_ARGUMENT) on bad percent-encoding or invalid UTF-8.
class RequestPath {
 public:
  static absl::StatusOr<RequestPath> Parse(absl::string_view raw_path);

 private:
  friend class PathTemplate;
  std::vector<std::string> raw_;      // as received, without the leading '/'
  std::vector<std::string> decoded_;  // each fully percent-decoded
  // When the last raw segment has a ':' (not at its start): the decoded verb
  // after the last ':' and the decoded segment before it.
  std::optional<std::string> verb_;
  std::string last_without_verb_raw_;
  std::string last_without_verb_;
};

class PathTemplate {
 public:
  enum class SegmentKind { kLiteral, kWildcard, kMultiWildcard };
  struct Segment {
    SegmentKind kind;
    std::string literal;  // for kLiteral
  };
  struct Variable {
    std::string field_path;  // "book.name"
    size_t first_segment;    // index into segments()
    size_t end_segment;      // one past the last segment of the variable
  };

  // INVALID_ARGUMENT naming the problem and its position.
  static absl::StatusOr<PathTemplate> Parse(absl::string_view text);

  const std::string& text() const { return text_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const std::vector<Variable>& variables() const { return variables_; }
  const std::string& verb() const { return verb_; }
  // Literal segments, the custom verb counting as one: the first key of
  // route precedence (see routes.h).
  int literal_count() const;

  // The variables' values when `path` matches, nullopt otherwise.
  std::optional<PathBindings> Match(const RequestPath& path) const;

  // True when both templates match exactly the same paths and bind
  // the same way (an ambiguity that start-up refuses for one HTTP method).
  bool SameShape(const PathTemplate& other) const;

  // Negative when `this` should win over `other`, positive when `other`
  // should, zero when equally specific. See routes.h for the rule.
  int CompareSpecificity(const PathTemplate& other) const;

 private:
  std::string text_;
  std::vector<Segment> segments_;
  std::vector<Variable> variables_;
  std::string verb_;
};

// Percent-decodes `text`. Leaves "%2F"/"%2f" encoded when `keep_slash`.
// INVALID_ARGUMENT on a '%' not followed by two hex digits.
absl::StatusOr<std::string> PercentDecode(absl::string_view text, bool keep_slash = false);

}  // namespace shop::bridge

#endif  // SHOP_SERVICES_BRIDGE_PATH_TEMPLATE_H_
