// The port through which the edge reaches the order processing system (ops);
// the gRPC implementation is services/ecp/clients.h.
#ifndef SHOP_SERVICES_ECP_ORDERS_CLIENT_H_
#define SHOP_SERVICES_ECP_ORDERS_CLIENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/order_request.h"
#include "shop/v1/types.pb.h"

namespace shop::ecp {

struct OrderPage {
  std::vector<shop::v1::Order> orders;
  std::string next_page_token;
};

class OrdersClient {
 public:
  virtual ~OrdersClient() = default;
  // Runs the saga to a final state (see ops' OrderProcessor::PlaceOrder).
  virtual absl::StatusOr<shop::v1::Order> PlaceOrder(const OrderRequest& request) = 0;
  // NOT_FOUND unless the order belongs to `customer_id`.
  virtual absl::StatusOr<shop::v1::Order> GetOrder(const std::string& order_id,
                                                   const std::string& customer_id) = 0;
  virtual absl::StatusOr<OrderPage> ListOrders(const std::string& customer_id, int32_t page_size,
                                               const std::string& page_token,
                                               shop::v1::OrderStatus status) = 0;
  virtual absl::StatusOr<shop::v1::Order> CancelOrder(const std::string& order_id,
                                                      const std::string& customer_id,
                                                      const std::string& reason) = 0;
  // Fulfilment; `note` goes into the status history.
  virtual absl::StatusOr<shop::v1::Order> StartProcessing(const std::string& order_id,
                                                          const std::string& note) = 0;
  virtual absl::StatusOr<shop::v1::Order> ShipOrder(const std::string& order_id,
                                                    const std::string& carrier,
                                                    const std::string& tracking_number) = 0;
  virtual absl::StatusOr<shop::v1::Order> DeliverOrder(const std::string& order_id,
                                                       const std::string& note) = 0;
};

}  // namespace shop::ecp

#endif  // SHOP_SERVICES_ECP_ORDERS_CLIENT_H_
