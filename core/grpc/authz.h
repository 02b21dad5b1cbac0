// Per-method authorization of callers by SPIFFE id, in the JSON shape of
// gRPC's authorization policy (gRFC A43: name, deny_rules, allow_rules; each
// rule with source.principals and request.paths). Deny rules win, then allow
// rules; anything else is denied. (Debian's gRPC 1.51 ships without grpc's
// own policy provider, so the engine is ours; the file format stays
// compatible with the subset below.)
//
// The parser fails closed: whatever it does not understand is refused with
// an error naming the place (`allow_rules[2].source: unknown key
// "principal"`), never ignored. The grammar accepted:
//
//   policy  = { "name": NAME, "allow_rules": [RULE, ...] (at least one),
//               "deny_rules": [RULE, ...] (optional, may be empty) }
//   RULE    = { "name": NAME (unique within its list),
//               "source":  { "principals": [PATTERN, ...] (at least one) },
//               "request": { "paths":      [PATTERN, ...] (at least one) } }
//   NAME    = a non-empty string
//   PATTERN = a non-empty string: "*" (any non-empty value), "abc*" (prefix),
//             "*abc" (suffix) or "abc" (exact); no other "*". Principals that
//             are not "*"-led must start with "spiffe://" and paths that are
//             not "*"-led with "/" (anything else could never match).
//
// Where this is stricter than gRPC, on purpose:
// - gRPC treats an absent `source` or `request`, or an absent or empty
//   `principals` or `paths` list, as "no condition", i.e. match everything.
//   One typo in a key name then opened a method to every workload (security
//   review #9), so here `source.principals` and `request.paths` are required
//   and non-empty in every rule, deny rules included; "everything" must be
//   spelled out as ["*"].
// - Every other key is refused: misspelt ones as unknown, and gRPC keys this
//   engine does not implement (`request.headers`, `audit_logging_options`)
//   as not supported. Principals are matched against the caller's SPIFFE id
//   only (gRPC also tries DNS SANs and the subject), and an empty principal
//   (gRPC: "no client certificate") is refused in the file and never matches.
// - Duplicate JSON member names at any depth are refused (nlohmann would keep
//   the last one silently), and so are duplicate rule names within a list.
#ifndef SHOP_CORE_AUTHZ_H_
#define SHOP_CORE_AUTHZ_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace shop {

class AuthzPolicy {
 public:
  // InvalidArgument, with the place and the reason, for anything outside the
  // grammar above.
  static absl::StatusOr<AuthzPolicy> Parse(absl::string_view json);
  bool Allows(absl::string_view principal, absl::string_view path) const;
  const std::string& name() const { return name_; }

 private:
  struct Rule {
    std::string name;
    std::vector<std::string> principals;  // never empty
    std::vector<std::string> paths;       // never empty
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
  // A bad or unreadable file is an error here (a startup error for servers);
  // later the file is read again every `poll_interval`.
  static absl::StatusOr<std::shared_ptr<AuthzPolicyHolder>> FromFile(
      const std::string& path, absl::Duration poll_interval = absl::Seconds(2));
  ~AuthzPolicyHolder();

  bool Allows(absl::string_view principal, absl::string_view path) const;

  // Reads the file now, as the watcher does every poll interval, and installs
  // the policy if it changed and parses. On an unreadable or bad file the
  // previous policy stays and the error ("<file>: <reason>") is logged once
  // per change and returned. Only for holders made by FromFile.
  absl::Status Reload();
  // What the latest reload found: OK, or the error Reload() returned.
  absl::Status last_reload_status() const;

 private:
  AuthzPolicyHolder() = default;
  void Watch(absl::Duration poll_interval);

  std::string path_;
  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // one Reload() at a time
  mutable absl::Mutex mu_;
  std::shared_ptr<const AuthzPolicy> policy_ ABSL_GUARDED_BY(mu_);
  // The file's text at the latest successful read (unset after a failed one).
  std::optional<std::string> text_ ABSL_GUARDED_BY(mu_);
  absl::Status reload_status_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread watcher_;
};

}  // namespace shop

#endif  // SHOP_CORE_AUTHZ_H_
