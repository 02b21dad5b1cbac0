#include "core/postgres/migrate.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "core/digest.h"
#include "core/log.h"
#include "core/postgres/pool.h"

namespace shop {
namespace {

absl::Status ApplyLocked(pqxx::connection& connection, absl::string_view schema_name,
                         const std::vector<Migration>& migrations) {
  {
    pqxx::work w(connection);
    w.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "  version integer PRIMARY KEY,"
        "  name text NOT NULL,"
        "  checksum text NOT NULL,"
        "  applied_at timestamptz NOT NULL DEFAULT now())");
    w.commit();
  }
  int last = 0;
  for (const Migration& migration : migrations) {
    if (migration.version <= last) {
      return absl::InternalError(absl::StrCat("migrations out of order at ", migration.name));
    }
    last = migration.version;
    std::string checksum = Sha256Hex(migration.sql);
    pqxx::work w(connection);
    pqxx::result applied = w.exec_params(
        "SELECT checksum FROM schema_migrations WHERE version = $1", migration.version);
    if (!applied.empty()) {
      if (applied[0][0].as<std::string>() != checksum) {
        return absl::FailedPreconditionError(
            absl::StrCat("migration ", migration.name, " was changed after it was applied to ",
                         schema_name, "; add a new migration instead"));
      }
      continue;
    }
    w.exec(std::string(migration.sql));
    w.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                  migration.version, std::string(migration.name), checksum);
    w.commit();
    log::Info("migration applied", {{"schema", schema_name}, {"migration", migration.name}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyMigrations(pqxx::connection& connection, absl::string_view schema_name,
                             const std::vector<Migration>& migrations) {
  const std::string lock_key = absl::StrCat("shop.migrations.", schema_name);
  try {
    pqxx::nontransaction lock(connection);
    lock.exec_params("SELECT pg_advisory_lock(hashtext($1))", lock_key);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot take migration lock: ", e.what()));
  }
  absl::Status status;
  try {
    status = ApplyLocked(connection, schema_name, migrations);
  } catch (const std::exception& e) {
    status = absl::InternalError(absl::StrCat("migration failed: ", e.what()));
  }
  try {
    pqxx::nontransaction unlock(connection);
    unlock.exec_params("SELECT pg_advisory_unlock(hashtext($1))", lock_key);
  } catch (const std::exception&) {
    // The lock goes with the session if the connection is gone.
  }
  return status;
}

}  // namespace shop
