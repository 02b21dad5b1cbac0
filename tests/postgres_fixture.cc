#include "tests/postgres_fixture.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/harness.h"

namespace shop::testing {

PostgresCluster& PostgresCluster::Get() {
  static PostgresCluster* cluster = [] {
    auto* environment = new PostgresCluster();
    ::testing::AddGlobalTestEnvironment(environment);  // GoogleTest owns it
    return environment;
  }();
  return *cluster;
}

void PostgresCluster::SetUp() {
  char dir[] = "/tmp/shopmesh-store-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    ADD_FAILURE() << "cannot make a temporary directory";
    return;
  }
  root_ = dir;
  // initdb refuses root: postgres-local runs it as the postgres user, who
  // must be able to enter the directory.
  RunCommand("chmod 755 " + root_);
  port_ = FreePort();
  up_ = RunCommand(absl::StrCat(SourceDir(), "/scripts/postgres-local start ", root_, "/pg ", port_,
                                " >/dev/null"));
  if (!up_) {
    ADD_FAILURE() << "PostgreSQL did not start (scripts/postgres-local)";
    return;
  }
  // Password authentication: the stores' connections find the passwords
  // through this process's PGPASSFILE.
  passfile_ = PostgresPassFile(root_ + "/pg");
  AddToProcessPassFile(passfile_);
}

void PostgresCluster::TearDown() {
  if (up_) RunCommand(absl::StrCat(SourceDir(), "/scripts/postgres-local stop ", root_, "/pg"));
  if (!root_.empty() && std::getenv("SHOP_KEEP_TEST_DIR") == nullptr) {
    RunCommand("rm -rf " + root_);
  }
}

absl::StatusOr<std::string> PostgresCluster::NewDatabase() {
  if (!up_) return absl::FailedPreconditionError("the test's PostgreSQL cluster is not running");
  const std::string name = absl::StrCat("store_test_", ++databases_);
  if (!RunCommand(absl::StrCat("PGPASSFILE='", passfile_, "' ", SourceDir(),
                               "/scripts/postgres-local create-db ", port_, " ", name,
                               " >/dev/null"))) {
    return absl::InternalError("create-db " + name + " failed");
  }
  AddToProcessPassFile(passfile_);  // the new role's password
  return absl::StrCat("postgresql://", name, "@127.0.0.1:", port_, "/", name);
}

absl::StatusOr<PostgresPool*> PostgresCluster::NewDatabasePool() {
  absl::StatusOr<std::string> url = NewDatabase();
  if (!url.ok()) return url.status();
  absl::StatusOr<std::unique_ptr<PostgresPool>> pool = PostgresPool::Connect(*url, 2);
  if (!pool.ok()) return pool.status();
  pools_.push_back(*std::move(pool));
  return pools_.back().get();
}

}  // namespace shop::testing
