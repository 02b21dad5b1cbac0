// The InventoryStore contract (services/ims/inventory_store_contract.h)
// against the PostgreSQL store, on a private cluster, a fresh database per
// test with the migrations applied and the demo catalog seeded.
#include <memory>
#include <utility>
#include <vector>

#include "core/postgres/pool.h"
#include "services/ims/inventory_store_contract.h"
#include "services/ims/store.h"
#include "tests/postgres_fixture.h"

namespace shop::ims::contract {
namespace {

// The pools outlive every store made from them (one small pool per test's
// database, closed when the test binary exits).
std::vector<std::unique_ptr<PostgresPool>>& Pools() {
  static auto* pools = new std::vector<std::unique_ptr<PostgresPool>>();
  return *pools;
}

std::unique_ptr<InventoryStore> NewPostgresStore() {
  absl::StatusOr<std::string> url = shop::testing::PostgresCluster::Get().NewDatabase();
  if (!url.ok()) {
    ADD_FAILURE() << url.status();
    return nullptr;
  }
  auto pool = PostgresPool::Connect(*url, 2);
  if (!pool.ok()) {
    ADD_FAILURE() << pool.status();
    return nullptr;
  }
  Pools().push_back(*std::move(pool));
  auto store = std::make_unique<PostgresInventoryStore>(Pools().back().get());
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
