// The PaymentStore contract against the in-memory fake of the unit tests.
#include <memory>

#include "services/pg-adapter/fake_payment_store.h"
#include "services/pg-adapter/payment_store_contract.h"

namespace shop::payments::contract {
namespace {

INSTANTIATE_TEST_SUITE_P(Fake, PaymentStoreContract,
                         ::testing::Values(PaymentStoreFactory{
                             "Fake", [] { return std::make_unique<FakePaymentStore>(); }}));

}  // namespace
}  // namespace shop::payments::contract
