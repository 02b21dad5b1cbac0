#include "core/postgres/pool.h"

#include <optional>
#include <regex>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/span.h"
#include "core/trace.h"

namespace shop {

std::string PostgresPool::Redact(const std::string& url) {
  static const std::regex kUserInfoPassword("(://[^:/@]*):[^@]*@");
  static const std::regex kKeywordPassword("password=[^ &]*");
  std::string out = std::regex_replace(url, kUserInfoPassword, "$1:***@");
  return std::regex_replace(out, kKeywordPassword, "password=***");
}

PostgresPool::PostgresPool(std::string url, int size) : url_(std::move(url)), size_(size) {}

absl::StatusOr<std::unique_ptr<PostgresPool>> PostgresPool::Connect(const std::string& url,
                                                                    int size) {
  if (url.empty()) return absl::InvalidArgumentError("database URL is empty");
  std::unique_ptr<PostgresPool> pool(new PostgresPool(url, size < 1 ? 1 : size));
  auto first = pool->Acquire();
  if (!first.ok()) return first.status();
  pool->database_ = (*first)->dbname();
  pool->Release(std::move(*first));
  return pool;
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> PostgresPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < size_;
    };
    mu_.Await(absl::Condition(&available));
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    ++open_;
  }
  try {
    return std::make_unique<pqxx::connection>(url_);
  } catch (const std::exception& e) {
    absl::MutexLock lock(&mu_);
    --open_;
    return absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL at ", Redact(url_), ": ", e.what()));
  }
}

void PostgresPool::DropIdle() {
  absl::MutexLock lock(&mu_);
  open_ -= static_cast<int>(idle_.size());
  idle_.clear();
}

void PostgresPool::Release(std::unique_ptr<pqxx::connection> connection) {
  absl::MutexLock lock(&mu_);
  if (connection && connection->is_open()) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
}

absl::Status PostgresPool::Transact(const std::function<absl::Status(pqxx::work&)>& fn) {
  // A span inside traced work only: background loops open their own span
  // first, and the audit log's writer must not trace its own writes.
  std::optional<Span> span;
  if (CurrentTrace() != nullptr) {
    span.emplace("db.transaction");
    span->SetAttribute("db.system", "postgresql");
    span->SetAttribute("db.name", database_);
  }
  int attempts = 0;
  absl::Status result = TransactWithRetries(fn, attempts);
  if (span) {
    span->SetAttribute("db.attempts", attempts);
    span->SetStatus(result);
  }
  return result;
}

absl::Status PostgresPool::TransactWithRetries(const std::function<absl::Status(pqxx::work&)>& fn,
                                               int& attempts) {
  constexpr int kMaxAttempts = 5;
  absl::Status last_error;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    attempts = attempt;
    auto connection = Acquire();
    if (!connection.ok()) return connection.status();
    absl::Status status;
    bool retry = false;
    try {
      pqxx::work w(**connection);
      status = fn(w);
      if (status.ok()) w.commit();
    } catch (const pqxx::serialization_failure& e) {
      retry = true;
      last_error = absl::AbortedError(e.what());
    } catch (const pqxx::deadlock_detected& e) {
      retry = true;
      last_error = absl::AbortedError(e.what());
    } catch (const pqxx::broken_connection& e) {
      connection->reset();
      DropIdle();  // after a server restart every idle connection is dead too
      retry = true;
      last_error = absl::UnavailableError(absl::StrCat("database connection lost: ", e.what()));
    } catch (const pqxx::in_doubt_error& e) {
      Release(nullptr);
      return absl::UnavailableError(absl::StrCat("commit outcome unknown: ", e.what()));
    } catch (const std::exception& e) {
      status = absl::InternalError(absl::StrCat("database error: ", e.what()));
    }
    Release(std::move(*connection));
    if (!retry) return status;
    log::Warn("retrying transaction", {{"attempt", attempt}, {"error", last_error.message()}});
  }
  return last_error;
}

absl::Status PostgresPool::Migrate(absl::string_view schema_name,
                                   const std::vector<Migration>& migrations) {
  auto connection = Acquire();
  if (!connection.ok()) return connection.status();
  absl::Status status = ApplyMigrations(**connection, schema_name, migrations);
  Release(std::move(*connection));
  return status;
}

}  // namespace shop
