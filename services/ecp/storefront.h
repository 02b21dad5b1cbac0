// The customer-facing edge: validates what a customer asks for and forwards
// it to the order processing system and the catalog. It holds no state.
#ifndef SHOP_SERVICES_ECP_STOREFRONT_H_
#define SHOP_SERVICES_ECP_STOREFRONT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/order_request.h"
#include "services/ecp/catalog_client.h"
#include "services/ecp/orders_client.h"
#include "shop/v1/types.pb.h"

namespace shop::ecp {

// DELIVERED, CANCELLED, FAILED, PAYMENT_FAILED: nothing changes after these.
bool IsFinalStatus(shop::v1::OrderStatus status);

// Who a fulfilment call acts as: the signed-in end user and whether their
// token has the staff role.
struct Staff {
  std::string user;
  bool staff = false;
};

class Storefront {
 public:
  // `clock` paces WatchOrder, which reads the order every `watch_interval`
  // (OPS has no change feed yet).
  Storefront(OrdersClient* orders, CatalogClient* catalog, Clock* clock = Clock::Real(),
             absl::Duration watch_interval = absl::Milliseconds(250))
      : orders_(orders), catalog_(catalog), clock_(clock), watch_interval_(watch_interval) {}

  // `customer_id` is the authenticated end user (UNAUTHENTICATED when empty);
  // it overrides whatever `request` says.
  absl::StatusOr<shop::v1::Order> PlaceOrder(const std::string& customer_id, OrderRequest request);
  absl::StatusOr<shop::v1::Order> GetOrder(const std::string& customer_id,
                                           const std::string& order_id);
  // `page_size` 0..100 (0: the service's default).
  absl::StatusOr<OrderPage> ListOrders(const std::string& customer_id, int32_t page_size,
                                       const std::string& page_token, shop::v1::OrderStatus status);
  absl::StatusOr<shop::v1::Order> CancelOrder(const std::string& customer_id,
                                              const std::string& order_id,
                                              const std::string& reason);
  absl::StatusOr<ProductPage> BrowseCatalog(int32_t page_size, const std::string& page_token);

  // Sends the order now and after every change of its status, until it is
  // final (OK), `send` returns false (the watcher left: OK), `cancelled()`
  // says so (CANCELLED), or the next look would pass `deadline`
  // (DEADLINE_EXCEEDED: watch again).
  absl::Status WatchOrder(const std::string& customer_id, const std::string& order_id,
                          absl::Time deadline,
                          const std::function<bool(const shop::v1::Order&)>& send,
                          const std::function<bool()>& cancelled);

  // Fulfilment: PERMISSION_DENIED unless `by` has the staff role; the staff
  // member goes into the status history.
  absl::StatusOr<shop::v1::Order> StartProcessing(const Staff& by, const std::string& order_id,
                                                  const std::string& note);
  absl::StatusOr<shop::v1::Order> ShipOrder(const Staff& by, const std::string& order_id,
                                            const std::string& carrier,
                                            const std::string& tracking_number);
  absl::StatusOr<shop::v1::Order> DeliverOrder(const Staff& by, const std::string& order_id,
                                               const std::string& note);

 private:
  OrdersClient* orders_;
  CatalogClient* catalog_;
  Clock* clock_;
  absl::Duration watch_interval_;
};

}  // namespace shop::ecp

#endif  // SHOP_SERVICES_ECP_STOREFRONT_H_
