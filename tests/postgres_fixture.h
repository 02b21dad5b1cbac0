// A private PostgreSQL 15 cluster for the tests of one store (no services,
// no PKI): started once per test binary by scripts/postgres-local in a
// temporary directory, on a free port, and stopped at the end. Each test asks
// for a fresh database, so store contract tests start from nothing.
#ifndef SHOP_TESTS_POSTGRES_FIXTURE_H_
#define SHOP_TESTS_POSTGRES_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/postgres/pool.h"

namespace shop::testing {

class PostgresCluster : public ::testing::Environment {
 public:
  // The cluster of this test binary (registered as a GoogleTest environment
  // the first time it is asked for; started in SetUp).
  static PostgresCluster& Get();

  void SetUp() override;
  void TearDown() override;

  // A new empty database with its own owner role; its URL (no password in
  // it: the role's password is in passfile(), and in this process's
  // PGPASSFILE). FAILED_PRECONDITION when the cluster did not start.
  absl::StatusOr<std::string> NewDatabase();
  // A small pool on a new empty database, owned by the cluster (it outlives
  // every store made from it).
  absl::StatusOr<PostgresPool*> NewDatabasePool();

  int port() const { return port_; }
  // The cluster's password file (scripts/postgres-local passfile): the
  // superuser's and every role's password. Empty when it did not start.
  const std::string& passfile() const { return passfile_; }

 private:
  std::vector<std::unique_ptr<PostgresPool>> pools_;
  std::string root_;
  std::string passfile_;
  int port_ = 0;
  bool up_ = false;
  int databases_ = 0;
};

// A PostgreSQL store of type `Store` on a fresh database: `make(pool)` builds
// it, `prepare(store)` applies its migrations. Null (with the test failed)
// when any step fails; a contract suite's SetUp then stops the test.
template <typename Store, typename Make, typename Prepare>
std::unique_ptr<Store> NewPostgresStore(Make make, Prepare prepare) {
  absl::StatusOr<PostgresPool*> pool = PostgresCluster::Get().NewDatabasePool();
  if (!pool.ok()) {
    ADD_FAILURE() << pool.status();
    return nullptr;
  }
  std::unique_ptr<Store> store = make(*pool);
  if (absl::Status prepared = prepare(*store); !prepared.ok()) {
    ADD_FAILURE() << prepared;
    return nullptr;
  }
  return store;
}

}  // namespace shop::testing

#endif  // SHOP_TESTS_POSTGRES_FIXTURE_H_
