// Test helper: the parameter of a store contract suite (services/*/
// *_store_contract.h), a named way to make a new, empty store. The name is
// what GoogleTest (and ctest, through gtest_discover_tests) shows in test
// names; without PrintTo it would print the std::function's bytes, which
// change from build to build.
#ifndef SHOP_CORE_TESTING_STORE_FACTORY_H_
#define SHOP_CORE_TESTING_STORE_FACTORY_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace shop::testing {

template <typename Store>
struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<Store>()> make;
};

template <typename Store>
void PrintTo(const StoreFactory<Store>& factory, std::ostream* os) {
  *os << factory.name;
}

}  // namespace shop::testing

#endif  // SHOP_CORE_TESTING_STORE_FACTORY_H_
