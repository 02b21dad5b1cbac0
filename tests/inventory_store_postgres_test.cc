// The InventoryStore contract (services/ims/inventory_store_contract.h)
// against the PostgreSQL store, on a private cluster, a fresh database per
// test with the migrations applied and the
// demo catalog seeded.
#include <memory>

#include "services/ims/inventory_store_contract.h"
#include "services/ims/store.h"
#include "tests/postgres_fixture.h"

namespace shop::ims::contract {
namespace {

std::unique_ptr<InventoryStore> NewStore() {
  return shop::testing::NewPostgresStore<PostgresInventoryStore>(
      [](PostgresPool* pool) { return std::make_unique<PostgresInventoryStore>(pool); },
      [](PostgresInventoryStore& store) { return store.Prepare(/*seed_demo_catalog=*/true); });
}

// Registers the cluster (a GoogleTest environment) before the tests run.
[[maybe_unused]] const bool kClusterRegistered = (shop::testing::PostgresCluster::Get(), true);

INSTANTIATE_TEST_SUITE_P(Postgres, InventoryStoreContract,
                         ::testing::Values(InventoryStoreFactory{"Postgres", NewStore}));

}  // namespace
}  // namespace shop::ims::contract
