// The PaymentStore contract (services/pg-adapter/payment_store_contract.h)
// against the PostgreSQL store, on a private cluster, a fresh database per
// test with the migrations applied.
#include <memory>
#include <utility>
#include <vector>

#include "core/postgres/pool.h"
#include "services/pg-adapter/payment_store_contract.h"
#include "services/pg-adapter/store.h"
#include "tests/postgres_fixture.h"

namespace shop::payments::contract {
namespace {

// The pools outlive every store made from them (one small pool per test's
// database, closed when the test binary exits).
std::vector<std::unique_ptr<PostgresPool>>& Pools() {
  static auto* pools = new std::vector<std::unique_ptr<PostgresPool>>();
  return *pools;
}

std::unique_ptr<PaymentStore> NewPostgresStore() {
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
  auto store = std::make_unique<PostgresPaymentStore>(Pools().back().get());
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
