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

std::unique_ptr<InventoryStore> NewPostgresStore() {
  absl::StatusOr<PostgresPool*> pool = shop::testing::PostgresCluster::Get().NewDatabasePool();
  if (!pool.ok()) {
    ADD_FAILURE() << pool.status();
    return nullptr;
  }
  auto store = std::make_unique<PostgresInventoryStore>(*pool);
  if (absl::Status prepared = store->Prepare(/*seed_demo_catalog=*/true); !prepared.ok()) {
    ADD_FAILURE() << prepared;
    return nullptr;
  }
  return store;
}

// Registers the cluster before the tests run.
const bool kClusterRegistered = (shop::testing::PostgresCluster::Get(), true);

INSTANTIATE_TEST_SUITE_P(Postgres, InventoryStoreContract,
                         ::testing::Values(InventoryStoreFactory(NewPostgresStore)));

}  // namespace
}  // namespace shop::ims::contract
