// The OrderStore contract (services/ops/order_store_contract.h)
// against the PostgreSQL store, on a private cluster, a fresh database per
// test with the migrations applied.
#include <memory>

#include "services/ops/order_store_contract.h"
#include "services/ops/store.h"
#include "tests/postgres_fixture.h"

namespace shop::ops::contract {
namespace {

std::unique_ptr<OrderStore> NewStore() {
  // A lease far longer than any test: leases here end by DropLease and
  // Transition, never by time.
  return shop::testing::NewPostgresStore<PostgresOrderStore>(
      [](PostgresPool* pool) {
        return std::make_unique<PostgresOrderStore>(pool, absl::Seconds(30));
      },
      [](PostgresOrderStore& store) { return store.Prepare(); });
}

// Registers the cluster (a GoogleTest environment) before the tests run.
[[maybe_unused]] const bool kClusterRegistered = (shop::testing::PostgresCluster::Get(), true);

INSTANTIATE_TEST_SUITE_P(Postgres, OrderStoreContract,
                         ::testing::Values(OrderStoreFactory{"Postgres", NewStore}));

}  // namespace
}  // namespace shop::ops::contract
