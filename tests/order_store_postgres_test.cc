// The OrderStore contract (services/ops/order_store_contract.h) against the
// PostgreSQL store, on a private cluster (tests/postgres_fixture.h).
//
// Each test gets a fresh database with the migrations applied, rather than
// TRUNCATE between tests: gtest_discover_tests runs every test in a process
// of its own, so each one starts its own cluster anyway (well under a second,
// as the mesh tests show) and makes a single database in it (one psql run:
// CREATE ROLE, CREATE DATABASE from template1, about 0.1 s). A new database
// also resets the sequences (seq) and needs no list of tables to keep in step
// with the migrations.
#include <memory>

#include "services/ops/order_store_contract.h"
#include "services/ops/store.h"
#include "tests/postgres_fixture.h"

namespace shop::ops::contract {
namespace {

std::unique_ptr<OrderStore> NewPostgresStore() {
  absl::StatusOr<PostgresPool*> pool = shop::testing::PostgresCluster::Get().NewDatabasePool();
  if (!pool.ok()) {
    ADD_FAILURE() << pool.status();
    return nullptr;
  }
  // A lease far longer than any test: leases here end by DropLease and
  // Transition, never by time.
  auto store = std::make_unique<PostgresOrderStore>(*pool, absl::Seconds(30));
  if (absl::Status prepared = store->Prepare(); !prepared.ok()) {
    ADD_FAILURE() << prepared;
    return nullptr;
  }
  return store;
}

// Registers the cluster (a GoogleTest environment) before the tests run.
[[maybe_unused]] const bool kClusterRegistered = (shop::testing::PostgresCluster::Get(), true);

INSTANTIATE_TEST_SUITE_P(Postgres, OrderStoreContract,
                         ::testing::Values(OrderStoreFactory{"Postgres", NewPostgresStore}));

}  // namespace
}  // namespace shop::ops::contract
