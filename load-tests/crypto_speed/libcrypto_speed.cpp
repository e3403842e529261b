// libcrypto_speed.cpp — the same operations as wolfcrypt_speed.cpp through
// OpenSSL 3's EVP API, the way tls/*_libcrypto.cpp calls it (a context per
// signature on an already parsed key), so provider overhead is counted.
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "timed.hpp"

constexpr const char* kLibrary = "libcrypto";

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  const unsigned char digest[32] = {1, 2, 3};
  crypto_speed::timed(kLibrary, "ecdsa_p256_sign", n, [&] {
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new(ec, nullptr);
    unsigned char sig[80];
    size_t len = sizeof sig;
    const bool ok = c && EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_sign(c, sig, &len, digest, sizeof digest) == 1;
    EVP_PKEY_CTX_free(c);
    return ok;
  });
  crypto_speed::timed(kLibrary, "p256_keygen", n, [&] {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    EVP_PKEY_free(k);
    return k != nullptr;
  });
  // An X25519 key pair as a key-generation callback would need it: raw bytes out.
  crypto_speed::timed(kLibrary, "x25519_keygen_raw", n, [&] {
    EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
    unsigned char raw[32];
    size_t len = sizeof raw;
    const bool ok = k && EVP_PKEY_get_raw_private_key(k, raw, &len) == 1 &&
                    (len = sizeof raw, EVP_PKEY_get_raw_public_key(k, raw, &len) == 1);
    EVP_PKEY_free(k);
    return ok;
  });
  // A shared secret from raw keys, as a shared-secret callback would get them.
  EVP_PKEY* a = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
  EVP_PKEY* b = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
  unsigned char a_priv[32], b_pub[32];
  size_t len = 32;
  EVP_PKEY_get_raw_private_key(a, a_priv, &len);
  len = 32;
  EVP_PKEY_get_raw_public_key(b, b_pub, &len);
  crypto_speed::timed(kLibrary, "x25519_shared_from_raw", n, [&] {
    EVP_PKEY* mine = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, a_priv, 32);
    EVP_PKEY* theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, b_pub, 32);
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new(mine, nullptr);
    unsigned char out[32];
    size_t out_len = sizeof out;
    const bool ok = c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, theirs) == 1 &&
                    EVP_PKEY_derive(c, out, &out_len) == 1;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(mine);
    EVP_PKEY_free(theirs);
    return ok;
  });
  return 0;
}
