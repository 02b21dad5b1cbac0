// The invariants of ../shared/ARCHITECTURE.md, checked against the
// databases of ops and ims and the payment gateway stand-in's ledger.
#ifndef SHOP_TESTS_INVARIANTS_H_
#define SHOP_TESTS_INVARIANTS_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/harness.h"

namespace shop::testing {

// GET /v1/test/ledger of the gateway stand-in (all orders, or one).
nlohmann::json FetchLedger(const Mesh& mesh, const std::string& order_id = "",
                           std::string* error = nullptr);

struct InvariantReport {
  int orders = 0;
  std::map<std::string, int> by_status;
  std::vector<std::string> violations;  // empty: all invariants hold
  std::string Summary() const;
};

// - every order reached a final state (no saga left RUNNING/COMPENSATING);
// - at most one authorization per order at the gateway;
// - confirmed (and later) orders: captured = grand total, nothing refunded;
//   cancelled: captured = refunded; failed: nothing captured net;
//   no order keeps an authorization hold that is neither captured nor voided;
// - no money for an order unknown to ops;
// - per SKU: seeded = available + reserved + sold, reserved = 0,
//   sold = units of live (confirmed and later) orders.
InvariantReport CheckInvariants(const Mesh& mesh);

// Polls until no saga is unfinished (true) or `timeout` passes.
bool WaitForSettledSagas(const Mesh& mesh, std::chrono::milliseconds timeout);

}  // namespace shop::testing

#endif  // SHOP_TESTS_INVARIANTS_H_
