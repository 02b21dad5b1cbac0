// The OrderStore contract (services/ops/order_store_contract.h)
// against the PostgreSQL store, on a private cluster, a fresh database per
// test with the migrations applied.
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
  auto store = std::make_unique<PostgresOrderStore>(*pool, absl::Seconds(30));
  if (absl::Status prepared = store->Prepare(); !prepared.ok()) {
    ADD_FAILURE() << prepared;
    return nullptr;
  }
  return store;
}

// Registers the cluster before the tests run.
const bool kClusterRegistered = (shop::testing::PostgresCluster::Get(), true);

INSTANTIATE_TEST_SUITE_P(Postgres, OrderStoreContract,
                         ::testing::Values(OrderStoreFactory(NewPostgresStore)));

}  // namespace
}  // namespace shop::ops::contract
