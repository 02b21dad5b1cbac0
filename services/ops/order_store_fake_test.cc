// The OrderStore contract (order_store_contract.h) against the in-memory
// fake of the saga's unit tests.
#include <memory>

#include "services/ops/fake_order_store.h"
#include "services/ops/order_store_contract.h"

namespace shop::ops::contract {
namespace {

std::unique_ptr<OrderStore> NewFakeStore() { return std::make_unique<FakeOrderStore>(); }

INSTANTIATE_TEST_SUITE_P(Fake, OrderStoreContract,
                         ::testing::Values(OrderStoreFactory{"Fake", NewFakeStore}));

}  // namespace
}  // namespace shop::ops::contract
