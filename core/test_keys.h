// For unit tests: fresh private keys as unencrypted PKCS#8 PEM.
#ifndef SHOP_CORE_TEST_KEYS_H_
#define SHOP_CORE_TEST_KEYS_H_

#include <string>

namespace shop::testing {

std::string NewP256KeyPem();     // ES256 (JWT signing)
std::string NewEd25519KeyPem();  // Ed25519 (audit tree heads)

}  // namespace shop::testing

#endif  // SHOP_CORE_TEST_KEYS_H_
