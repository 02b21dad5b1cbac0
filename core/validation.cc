#include "core/validation.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "shop/v1/types.pb.h"

namespace shop {

bool IsValidSku(absl::string_view sku) {
  if (sku.empty() || sku.size() > 64) return false;
  for (size_t i = 0; i < sku.size(); ++i) {
    char c = sku[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
    if (!ok) return false;
  }
  return true;
}

bool IsValidId(absl::string_view id) {
  return !id.empty() && id.size() <= kMaxIdLength && IsValidPrintable(id);
}

bool IsValidPrintable(absl::string_view text) {
  for (char c : text) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

bool HasCardNumberLikeRun(absl::string_view text) {
  int run = 0;
  for (char c : text) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run >= 12) return true;
  }
  return false;
}

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = text[i];
    int extra;
    uint32_t code;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = text[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMin[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

void ValidateLines(const std::vector<LineView>& lines, absl::string_view field,
                   FieldViolations& violations) {
  if (lines.empty()) {
    violations.Add(std::string(field), "an order needs at least one line");
    return;
  }
  if (lines.size() > static_cast<size_t>(kMaxOrderLines)) {
    violations.Add(std::string(field),
                   absl::StrCat("at most ", kMaxOrderLines, " lines, got ", lines.size()));
    return;
  }
  std::set<absl::string_view> seen;
  for (size_t i = 0; i < lines.size(); ++i) {
    const LineView& line = lines[i];
    std::string prefix = absl::StrCat(field, "[", i, "]");
    if (!IsValidSku(line.sku)) {
      violations.Add(prefix + ".sku", "must be 1-64 characters of A-Z, 0-9 and '-'");
    } else if (!seen.insert(line.sku).second) {
      violations.Add(prefix + ".sku",
                     absl::StrCat("duplicate SKU ", line.sku, "; combine the quantities"));
    }
    if (line.quantity < 1 || line.quantity > kMaxLineQuantity) {
      violations.Add(prefix + ".quantity", absl::StrCat("must be between 1 and ", kMaxLineQuantity,
                                                        ", got ", line.quantity));
    }
  }
}

void ValidateLineItems(const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& lines,
                       absl::string_view field, FieldViolations& violations) {
  std::vector<LineView> views;
  views.reserve(lines.size());
  for (const auto& line : lines) views.push_back({line.sku(), line.quantity()});
  ValidateLines(views, field, violations);
}

void ValidateAddress(const shop::v1::Address& address, absl::string_view field,
                     FieldViolations& violations) {
  struct Part {
    const char* name;
    const std::string& value;
    bool required;
  };
  const Part parts[] = {
      {"name", address.name(), true},
      {"line1", address.line1(), true},
      {"line2", address.line2(), false},
      {"city", address.city(), true},
      {"region", address.region(), false},
      {"postal_code", address.postal_code(), true},
      {"country_code", address.country_code(), true},
  };
  for (const Part& part : parts) {
    std::string name = absl::StrCat(field, ".", part.name);
    if (part.value.empty()) {
      if (part.required) violations.Add(name, "is required");
    } else if (part.value.size() > kMaxTextLength) {
      violations.Add(name, absl::StrCat("at most ", kMaxTextLength, " bytes"));
    } else if (!IsValidUtf8(part.value)) {
      violations.Add(name, "must be valid UTF-8");
    }
  }
  const std::string& country = address.country_code();
  if (!country.empty() && (country.size() != 2 || country[0] < 'A' || country[0] > 'Z' ||
                           country[1] < 'A' || country[1] > 'Z')) {
    violations.Add(absl::StrCat(field, ".country_code"),
                   "must be an ISO 3166-1 alpha-2 code such as US");
  }
}

void RequireId(absl::string_view field, absl::string_view value, FieldViolations& violations) {
  if (!IsValidId(value)) violations.Add(std::string(field), std::string(kIdRule));
}

void CheckText(absl::string_view field, absl::string_view text, FieldViolations& violations) {
  if (text.size() > kMaxTextLength || !IsValidUtf8(text)) {
    violations.Add(std::string(field), std::string(kTextRule));
  }
}

}  // namespace shop
