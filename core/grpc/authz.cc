#include "core/grpc/authz.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace shop {
namespace {

bool Glob(absl::string_view pattern, absl::string_view value) {
  if (pattern == "*") return true;
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
  return buffer.str();
}

}  // namespace

absl::StatusOr<AuthzPolicy> AuthzPolicy::Parse(absl::string_view text) {
  nlohmann::json json = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError("authorization policy is not a JSON object");
  }
  AuthzPolicy policy;
  if (!json.contains("name") || !json["name"].is_string()) {
    return absl::InvalidArgumentError("authorization policy needs a \"name\"");
  }
  policy.name_ = json["name"].get<std::string>();
  for (const char* kind : {"deny_rules", "allow_rules"}) {
    if (!json.contains(kind)) continue;
    if (!json[kind].is_array()) {
      return absl::InvalidArgumentError(absl::StrCat("\"", kind, "\" must be an array"));
    }
    for (const auto& item : json[kind]) {
      Rule rule;
      if (!item.is_object() || !item.contains("name") || !item["name"].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat("every entry of ", kind, " needs a name"));
      }
      rule.name = item["name"].get<std::string>();
      auto strings = [&](const char* section, const char* key,
                         std::vector<std::string>& out) -> absl::Status {
        if (!item.contains(section)) return absl::OkStatus();
        const auto& part = item[section];
        if (!part.is_object() || !part.contains(key)) return absl::OkStatus();
        if (!part[key].is_array()) {
          return absl::InvalidArgumentError(absl::StrCat(rule.name, ": ", key, " must be a list"));
        }
        for (const auto& value : part[key]) {
          if (!value.is_string()) {
            return absl::InvalidArgumentError(
                absl::StrCat(rule.name, ": ", key, " must be strings"));
          }
          out.push_back(value.get<std::string>());
        }
        return absl::OkStatus();
      };
      if (auto s = strings("source", "principals", rule.principals); !s.ok()) return s;
      if (auto s = strings("request", "paths", rule.paths); !s.ok()) return s;
      (absl::string_view(kind) == "deny_rules" ? policy.deny_ : policy.allow_).push_back(rule);
    }
  }
  if (policy.allow_.empty()) {
    return absl::InvalidArgumentError("authorization policy has no allow_rules");
  }
  return policy;
}

bool AuthzPolicy::Matches(const Rule& rule, absl::string_view principal, absl::string_view path) {
  // An absent list matches everything, as in gRPC's policy format.
  bool principal_ok = rule.principals.empty();
  for (const auto& p : rule.principals) principal_ok = principal_ok || Glob(p, principal);
  bool path_ok = rule.paths.empty();
  for (const auto& p : rule.paths) path_ok = path_ok || Glob(p, path);
  return principal_ok && path_ok;
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
    const std::string& path) {
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
    holder->text_ = *text;
  }
  holder->watcher_ = std::thread([h = holder.get()] { h->Watch(); });
  return holder;
}

AuthzPolicyHolder::~AuthzPolicyHolder() {
  stop_.Notify();
  if (watcher_.joinable()) watcher_.join();
}

void AuthzPolicyHolder::Watch() {
  while (!stop_.WaitForNotificationWithTimeout(absl::Seconds(2))) {
    auto text = ReadAll(path_);
    if (!text.ok()) continue;
    {
      absl::MutexLock lock(&mu_);
      if (*text == text_) continue;
      text_ = *text;
    }
    auto policy = AuthzPolicy::Parse(*text);
    if (!policy.ok()) {
      log::Error("authorization policy not reloaded; keeping the previous one",
                 {{"file", path_}, {"error", std::string(policy.status().message())}});
      continue;
    }
    absl::MutexLock lock(&mu_);
    policy_ = std::make_shared<const AuthzPolicy>(std::move(*policy));
    log::Info("authorization policy reloaded", {{"file", path_}});
  }
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
