// The port through which the edge reads the catalog (ims); the gRPC
// implementation is services/ecp/clients.h.
#ifndef SHOP_SERVICES_ECP_CATALOG_CLIENT_H_
#define SHOP_SERVICES_ECP_CATALOG_CLIENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "shop/v1/types.pb.h"

namespace shop::ecp {

struct ProductPage {
  std::vector<shop::v1::Product> products;
  std::string next_page_token;
};

class CatalogClient {
 public:
  virtual ~CatalogClient() = default;
  virtual absl::StatusOr<ProductPage> ListProducts(int32_t page_size,
                                                   const std::string& page_token) = 0;
};

}  // namespace shop::ecp

#endif  // SHOP_SERVICES_ECP_CATALOG_CLIENT_H_
