// The PaymentStore contract (services/pg-adapter/payment_store_contract.h)
// against the PostgreSQL store, on a private cluster, a fresh database per
// test with the migrations applied.
#include <memory>

#include "services/pg-adapter/payment_store_contract.h"
#include "services/pg-adapter/store.h"
#include "tests/postgres_fixture.h"

namespace shop::payments::contract {
namespace {

std::unique_ptr<PaymentStore> NewPostgresStore() {
  absl::StatusOr<PostgresPool*> pool = shop::testing::PostgresCluster::Get().NewDatabasePool();
  if (!pool.ok()) {
    ADD_FAILURE() << pool.status();
    return nullptr;
  }
  auto store = std::make_unique<PostgresPaymentStore>(*pool);
  if (absl::Status prepared = store->Prepare(); !prepared.ok()) {
    ADD_FAILURE() << prepared;
    return nullptr;
  }
  return store;
}

// Registers the cluster before the tests run.
const bool kClusterRegistered = (shop::testing::PostgresCluster::Get(), true);

INSTANTIATE_TEST_SUITE_P(Postgres, PaymentStoreContract,
                         ::testing::Values(PaymentStoreFactory(NewPostgresStore)));

}  // namespace
}  // namespace shop::payments::contract
