#include "core/test_keys.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

namespace shop::testing {
namespace {

// Takes ownership of `key`; "" if it could not be made.
std::string PrivatePemOf(EVP_PKEY* key) {
  if (key == nullptr) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

}  // namespace

std::string NewP256KeyPem() {
  return PrivatePemOf(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

std::string NewEd25519KeyPem() {
  return PrivatePemOf(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

}  // namespace shop::testing
