// Per-method authorization of callers by SPIFFE id, in the JSON shape of
// gRPC's authorization policy (name, deny_rules, allow_rules; each rule with
// source.principals and request.paths). Deny rules win, then allow rules;
// anything else is denied. "*" matches anything; a trailing "*" is a prefix.
// (Debian's gRPC 1.51 ships without grpc's own policy provider, so the
// engine is ours; the file format stays compatible.)
#ifndef SHOP_CORE_AUTHZ_H_
#define SHOP_CORE_AUTHZ_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace shop {

class AuthzPolicy {
 public:
  static absl::StatusOr<AuthzPolicy> Parse(absl::string_view json);
  bool Allows(absl::string_view principal, absl::string_view path) const;
  const std::string& name() const { return name_; }

 private:
  struct Rule {
    std::string name;
    std::vector<std::string> principals;
    std::vector<std::string> paths;
  };
  static bool Matches(const Rule& rule, absl::string_view principal, absl::string_view path);
  std::string name_;
  std::vector<Rule> deny_;
  std::vector<Rule> allow_;
};

// The policy in force, optionally reloaded from a file when it changes (a
// bad new file keeps the old policy and logs why).
class AuthzPolicyHolder {
 public:
  static absl::StatusOr<std::shared_ptr<AuthzPolicyHolder>> FromText(absl::string_view json);
  static absl::StatusOr<std::shared_ptr<AuthzPolicyHolder>> FromFile(const std::string& path);
  ~AuthzPolicyHolder();

  bool Allows(absl::string_view principal, absl::string_view path) const;

 private:
  AuthzPolicyHolder() = default;
  void Watch();

  std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const AuthzPolicy> policy_ ABSL_GUARDED_BY(mu_);
  std::string text_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread watcher_;
};

}  // namespace shop

#endif  // SHOP_CORE_AUTHZ_H_
