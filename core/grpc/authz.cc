#include "core/grpc/authz.h"

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace shop {
namespace {

using Json = nlohmann::json;

constexpr char kTopLevel[] = "authorization policy";

// See the grammar in authz.h: "*" matches any non-empty value, "abc*" is a
// prefix, "*abc" a suffix, anything else exact. An empty value (a caller
// without a SPIFFE id) matches nothing.
bool Glob(absl::string_view pattern, absl::string_view value) {
  if (value.empty()) return false;
  if (pattern == "*") return true;
  if (absl::StartsWith(pattern, "*")) return absl::EndsWith(value, pattern.substr(1));
  if (absl::EndsWith(pattern, "*")) {
    return absl::StartsWith(value, pattern.substr(0, pattern.size() - 1));
  }
  return pattern == value;
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read policy file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading policy file ", path));
  return buffer.str();
}

absl::Status Refuse(absl::string_view where, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", problem));
}

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

// The document as a JSON object, refusing duplicate member names at any depth
// (nlohmann would keep the last one; the idea is jwt.cc's ParseObject, here
// with the place of the duplicate in the message).
absl::StatusOr<Json> ParseObject(absl::string_view text) {
  struct Open {
    bool array = false;
    size_t index = 0;            // arrays: the element being parsed
    std::set<std::string> keys;  // objects: the names seen so far
    std::string key;             // objects: the member being parsed
  };
  std::vector<Open> open;
  std::string duplicate;  // the first one, with its place
  auto where = [&open] {
    std::string out;
    for (size_t i = 0; i + 1 < open.size(); ++i) {
      if (open[i].array) {
        absl::StrAppend(&out, "[", open[i].index, "]");
      } else {
        absl::StrAppend(&out, out.empty() ? "" : ".", open[i].key);
      }
    }
    return out.empty() ? std::string(kTopLevel) : out;
  };
  auto check_names = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        open.emplace_back();
        break;
      case Json::parse_event_t::array_start:
        open.emplace_back().array = true;
        break;
      case Json::parse_event_t::key:
        if (!open.empty()) {
          std::string name = parsed.get<std::string>();
          if (!open.back().keys.insert(name).second && duplicate.empty()) {
            duplicate = absl::StrCat(where(), ": duplicate key ", Quoted(name));
          }
          open.back().key = std::move(name);
        }
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!open.empty()) open.pop_back();
        if (!open.empty() && open.back().array) ++open.back().index;
        break;
      case Json::parse_event_t::value:
        if (!open.empty() && open.back().array) ++open.back().index;
        break;
    }
    return true;
  };
  Json json = Json::parse(text.begin(), text.end(), check_names, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError("authorization policy is not a JSON object");
  }
  if (!duplicate.empty()) return absl::InvalidArgumentError(duplicate);
  return json;
}

// Refuses members of `object` outside `known`; `unsupported` are gRPC's own
// keys that this engine does not implement.
absl::Status OnlyKeys(const Json& object, absl::string_view where,
                      std::initializer_list<absl::string_view> known,
                      std::initializer_list<absl::string_view> unsupported = {}) {
  auto in = [](std::initializer_list<absl::string_view> names, absl::string_view key) {
    return std::find(names.begin(), names.end(), key) != names.end();
  };
  for (const auto& member : object.items()) {
    const std::string& key = member.key();
    if (in(known, key)) continue;
    if (in(unsupported, key)) return Refuse(where, absl::StrCat(Quoted(key), " is not supported"));
    return Refuse(where, absl::StrCat("unknown key ", Quoted(key)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NonEmptyString(const Json& object, absl::string_view where,
                                           const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Refuse(where, absl::StrCat("\"", key, "\" must be a non-empty string"));
  }
  return it->get<std::string>();
}

// `section` ("source" or "request") must be an object holding exactly the
// non-empty list `key` of valid patterns.
absl::Status PatternList(const Json& rule, const std::string& where, const char* section,
                         const char* key, absl::string_view literal_start,
                         std::initializer_list<absl::string_view> unsupported,
                         std::vector<std::string>& out) {
  const std::string hint = absl::StrCat("spell out [\"*\"] to match any ",
                                        absl::string_view(key) == "paths" ? "path" : "caller");
  auto part = rule.find(section);
  if (part == rule.end()) {
    return Refuse(where, absl::StrCat("\"", section, "\" is required (", hint, ")"));
  }
  const std::string part_where = absl::StrCat(where, ".", section);
  if (!part->is_object()) return Refuse(part_where, "must be an object");
  if (auto s = OnlyKeys(*part, part_where, {key}, unsupported); !s.ok()) return s;
  auto list = part->find(key);
  if (list == part->end()) {
    return Refuse(part_where, absl::StrCat("\"", key, "\" is required (", hint, ")"));
  }
  const std::string list_where = absl::StrCat(part_where, ".", key);
  if (!list->is_array()) return Refuse(list_where, "must be a list of strings");
  if (list->empty()) return Refuse(list_where, absl::StrCat("must not be empty (", hint, ")"));
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& value = (*list)[i];
    const std::string item_where = absl::StrCat(list_where, "[", i, "]");
    if (!value.is_string()) return Refuse(item_where, "must be a string");
    const std::string& pattern = value.get_ref<const std::string&>();
    if (pattern.empty()) return Refuse(item_where, "must not be empty");
    const auto stars = std::count(pattern.begin(), pattern.end(), '*');
    const bool star_ok = pattern == "*" || stars == 0 ||
                         (stars == 1 && (pattern.front() == '*' || pattern.back() == '*'));
    if (!star_ok) {
      return Refuse(item_where, absl::StrCat(Quoted(pattern),
                                             ": \"*\" may only be the whole pattern or its first "
                                             "or last character"));
    }
    if (pattern.front() != '*' && !absl::StartsWith(pattern, literal_start)) {
      return Refuse(item_where, absl::StrCat(Quoted(pattern), " must start with \"", literal_start,
                                             "\" or \"*\""));
    }
    out.push_back(pattern);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AuthzPolicy> AuthzPolicy::Parse(absl::string_view text) {
  auto parsed = ParseObject(text);
  if (!parsed.ok()) return parsed.status();
  const Json& json = *parsed;
  if (auto s = OnlyKeys(json, kTopLevel, {"name", "deny_rules", "allow_rules"},
                        {"audit_logging_options"});
      !s.ok()) {
    return s;
  }
  AuthzPolicy policy;
  auto name = NonEmptyString(json, kTopLevel, "name");
  if (!name.ok()) return name.status();
  policy.name_ = *std::move(name);
  for (const char* kind : {"deny_rules", "allow_rules"}) {
    auto rules = json.find(kind);
    if (rules == json.end()) continue;
    if (!rules->is_array()) {
      return Refuse(kTopLevel, absl::StrCat("\"", kind, "\" must be an array"));
    }
    std::vector<Rule>& out = absl::string_view(kind) == "deny_rules" ? policy.deny_ : policy.allow_;
    std::map<std::string, size_t> seen;  // rule name -> index
    for (size_t i = 0; i < rules->size(); ++i) {
      const Json& item = (*rules)[i];
      const std::string where = absl::StrCat(kind, "[", i, "]");
      if (!item.is_object()) return Refuse(where, "must be an object");
      if (auto s = OnlyKeys(item, where, {"name", "source", "request"}); !s.ok()) return s;
      Rule rule;
      auto rule_name = NonEmptyString(item, where, "name");
      if (!rule_name.ok()) return rule_name.status();
      rule.name = *std::move(rule_name);
      if (auto [it, added] = seen.emplace(rule.name, i); !added) {
        return Refuse(where, absl::StrCat("duplicate rule name ", Quoted(rule.name), " (also ",
                                          kind, "[", it->second, "])"));
      }
      if (auto s =
              PatternList(item, where, "source", "principals", "spiffe://", {}, rule.principals);
          !s.ok()) {
        return s;
      }
      if (auto s = PatternList(item, where, "request", "paths", "/", {"headers"}, rule.paths);
          !s.ok()) {
        return s;
      }
      out.push_back(std::move(rule));
    }
  }
  if (policy.allow_.empty()) {
    return absl::InvalidArgumentError("authorization policy has no allow_rules");
  }
  return policy;
}

bool AuthzPolicy::Matches(const Rule& rule, absl::string_view principal, absl::string_view path) {
  // Both lists are non-empty (Parse refuses anything else); "*" is explicit.
  auto any = [](const std::vector<std::string>& patterns, absl::string_view value) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [value](const std::string& p) { return Glob(p, value); });
  };
  return any(rule.principals, principal) && any(rule.paths, path);
}

bool AuthzPolicy::Allows(absl::string_view principal, absl::string_view path) const {
  for (const Rule& rule : deny_) {
    if (Matches(rule, principal, path)) return false;
  }
  for (const Rule& rule : allow_) {
    if (Matches(rule, principal, path)) return true;
  }
  return false;
}

absl::StatusOr<std::shared_ptr<AuthzPolicyHolder>> AuthzPolicyHolder::FromText(
    absl::string_view json) {
  auto policy = AuthzPolicy::Parse(json);
  if (!policy.ok()) return policy.status();
  std::shared_ptr<AuthzPolicyHolder> holder(new AuthzPolicyHolder);
  absl::MutexLock lock(&holder->mu_);
  holder->policy_ = std::make_shared<const AuthzPolicy>(std::move(*policy));
  return holder;
}

absl::StatusOr<std::shared_ptr<AuthzPolicyHolder>> AuthzPolicyHolder::FromFile(
    const std::string& path, absl::Duration poll_interval) {
  auto text = ReadAll(path);
  if (!text.ok()) return text.status();
  auto policy = AuthzPolicy::Parse(*text);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", policy.status().message()));
  }
  std::shared_ptr<AuthzPolicyHolder> holder(new AuthzPolicyHolder);
  holder->path_ = path;
  {
    absl::MutexLock lock(&holder->mu_);
    holder->policy_ = std::make_shared<const AuthzPolicy>(std::move(*policy));
    holder->text_ = *std::move(text);
  }
  holder->watcher_ = std::thread([h = holder.get(), poll_interval] { h->Watch(poll_interval); });
  return holder;
}

AuthzPolicyHolder::~AuthzPolicyHolder() {
  stop_.Notify();
  if (watcher_.joinable()) watcher_.join();
}

void AuthzPolicyHolder::Watch(absl::Duration poll_interval) {
  while (!stop_.WaitForNotificationWithTimeout(poll_interval)) {
    Reload().IgnoreError();  // logged and kept in last_reload_status()
  }
}

absl::Status AuthzPolicyHolder::Reload() {
  if (path_.empty()) return absl::FailedPreconditionError("the policy was not read from a file");
  absl::MutexLock reload_lock(&reload_mu_);
  auto text = ReadAll(path_);
  if (!text.ok()) {
    bool changed;
    {
      absl::MutexLock lock(&mu_);
      text_.reset();  // so that the same text coming back is parsed again
      changed = reload_status_ != text.status();
      reload_status_ = text.status();
    }
    if (changed) {  // once, not every poll while the file is missing
      log::Error("authorization policy not reloaded; keeping the previous one",
                 {{"file", path_}, {"error", std::string(text.status().message())}});
    }
    return text.status();
  }
  {
    absl::MutexLock lock(&mu_);
    if (text_ == *text) return reload_status_;  // the verdict on this very text
  }
  auto policy = AuthzPolicy::Parse(*text);
  absl::Status status =
      policy.ok()
          ? absl::OkStatus()
          : absl::InvalidArgumentError(absl::StrCat(path_, ": ", policy.status().message()));
  {
    absl::MutexLock lock(&mu_);
    text_ = *std::move(text);
    reload_status_ = status;
    if (policy.ok()) policy_ = std::make_shared<const AuthzPolicy>(*std::move(policy));
  }
  if (status.ok()) {
    log::Info("authorization policy reloaded", {{"file", path_}});
  } else {
    log::Error("authorization policy not reloaded; keeping the previous one",
               {{"file", path_}, {"error", std::string(status.message())}});
  }
  return status;
}

absl::Status AuthzPolicyHolder::last_reload_status() const {
  absl::MutexLock lock(&mu_);
  return reload_status_;
}

bool AuthzPolicyHolder::Allows(absl::string_view principal, absl::string_view path) const {
  std::shared_ptr<const AuthzPolicy> policy;
  {
    absl::MutexLock lock(&mu_);
    policy = policy_;
  }
  return policy->Allows(principal, path);
}

}  // namespace shop
