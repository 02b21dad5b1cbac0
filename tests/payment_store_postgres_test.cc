// The PaymentStore contract (services/pg-adapter/payment_store_contract.h)
// against the PostgreSQL store, on a private cluster, a fresh database per
// test with the migrations applied.
#include <memory>

#include "services/pg-adapter/payment_store_contract.h"
#include "services/pg-adapter/store.h"
#include "tests/postgres_fixture.h"

namespace shop::payments::contract {
namespace {

std::unique_ptr<PaymentStore> NewStore() {
  return shop::testing::NewPostgresStore<PostgresPaymentStore>(
      [](PostgresPool* pool) { return std::make_unique<PostgresPaymentStore>(pool); },
      [](PostgresPaymentStore& store) { return store.Prepare(); });
}

// Registers the cluster (a GoogleTest environment) before the tests run.
[[maybe_unused]] const bool kClusterRegistered = (shop::testing::PostgresCluster::Get(), true);

INSTANTIATE_TEST_SUITE_P(Postgres, PaymentStoreContract,
                         ::testing::Values(PaymentStoreFactory{"Postgres", NewStore}));

}  // namespace
}  // namespace shop::payments::contract
