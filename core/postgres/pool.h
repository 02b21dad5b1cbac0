// A small PostgreSQL connection pool with transactions that retry on
// serialization failures and deadlocks, and reconnect after a lost
// connection. Only store.cc files include this header (pqxx is heavy).
#ifndef SHOP_CORE_POSTGRES_POOL_H_
#define SHOP_CORE_POSTGRES_POOL_H_

#include <functional>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "core/postgres/migrate.h"

namespace shop {

// Applies `migrations` on `connection` (see core/migrate.h).
absl::Status ApplyMigrations(pqxx::connection& connection, absl::string_view schema_name,
                             const std::vector<Migration>& migrations);

class PostgresPool {
 public:
  // Connects once right away, so that a wrong URL, a missing database or bad
  // credentials fail at start with libpq's own message.
  static absl::StatusOr<std::unique_ptr<PostgresPool>> Connect(const std::string& url, int size);

  // Runs `fn` in a transaction and commits when it returns OK (rolls back
  // otherwise). Retried from the start on serialization failure or deadlock.
  // Inside a traced call it is one "db.transaction" span.
  absl::Status Transact(const std::function<absl::Status(pqxx::work&)>& fn);

  // The same for a transaction that produces a value: `fn`'s value from the
  // attempt that committed, e.g.
  //   return pool_->Transact<Payment>([&](pqxx::work& w) -> absl::StatusOr<Payment> {...});
  template <typename T>
  absl::StatusOr<T> Transact(const std::function<absl::StatusOr<T>(pqxx::work&)>& fn) {
    std::optional<T> value;
    absl::Status status = Transact([&](pqxx::work& w) -> absl::Status {
      absl::StatusOr<T> result = fn(w);
      if (!result.ok()) return result.status();
      value = *std::move(result);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return *std::move(value);
  }

  // Applies `migrations` (see core/migrate.h) on one pooled connection.
  absl::Status Migrate(absl::string_view schema_name, const std::vector<Migration>& migrations);

  // The URL without its password, for logs and errors.
  static std::string Redact(const std::string& url);

 private:
  PostgresPool(std::string url, int size);
  absl::Status TransactWithRetries(const std::function<absl::Status(pqxx::work&)>& fn,
                                   int& attempts);
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Acquire();
  void Release(std::unique_ptr<pqxx::connection> connection);
  void DropIdle();

  const std::string url_;
  const int size_;
  std::string database_;  // for spans
  absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shop

#endif  // SHOP_CORE_POSTGRES_POOL_H_
