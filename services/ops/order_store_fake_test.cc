// The OrderStore contract against the in-memory fake of the saga's tests.
#include <memory>

#include "services/ops/fake_order_store.h"
#include "services/ops/order_store_contract.h"

namespace shop::ops::contract {
namespace {

INSTANTIATE_TEST_SUITE_P(Fake, OrderStoreContract, ::testing::Values(OrderStoreFactory([] {
                           return std::make_unique<FakeOrderStore>();
                         })));

}  // namespace
}  // namespace shop::ops::contract
