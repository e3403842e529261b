// wolfcrypt_speed.cpp — microseconds per public-key operation of a TLS
// handshake in Debian's wolfSSL, as the server's code calls them (the
// libcrypto side: libcrypto_speed.cpp; both run by ../bench-crypto-speed.sh).
// wolfCrypt's own headers only: never OpenSSL's in the same file.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/curve25519.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include <cstdio>
#include <cstdlib>

#include "timed.hpp"

constexpr const char* kLibrary = "wolfcrypt";

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  WC_RNG rng;
  wc_InitRng(&rng);
  ecc_key key;
  wc_ecc_init(&key);
  wc_ecc_make_key_ex(&rng, 32, &key, ECC_SECP256R1);
  unsigned char digest[32] = {1, 2, 3};
  crypto_speed::timed(kLibrary, "ecdsa_p256_sign", n, [&] {
    unsigned char sig[80];
    word32 len = sizeof sig;
    return wc_ecc_sign_hash(digest, sizeof digest, sig, &len, &rng, &key) == 0;
  });
  crypto_speed::timed(kLibrary, "p256_keygen", n, [&] {
    ecc_key k;
    wc_ecc_init(&k);
    const bool ok = wc_ecc_make_key_ex(&rng, 32, &k, ECC_SECP256R1) == 0;
    wc_ecc_free(&k);
    return ok;
  });
  ecc_key peer;
  wc_ecc_init(&peer);
  wc_ecc_make_key_ex(&rng, 32, &peer, ECC_SECP256R1);
  wc_ecc_set_rng(&key, &rng);  // timing-resistant shared secrets need one
  crypto_speed::timed(kLibrary, "p256_shared_secret", n, [&] {
    unsigned char out[32];
    word32 len = sizeof out;
    return wc_ecc_shared_secret(&key, &peer, out, &len) == 0;
  });
  crypto_speed::timed(kLibrary, "x25519_keygen", n, [&] {
    curve25519_key k;
    wc_curve25519_init(&k);
    const bool ok = wc_curve25519_make_key(&rng, 32, &k) == 0;
    wc_curve25519_free(&k);
    return ok;
  });
  curve25519_key a, b;
  wc_curve25519_init(&a);
  wc_curve25519_init(&b);
  wc_curve25519_make_key(&rng, 32, &a);
  wc_curve25519_make_key(&rng, 32, &b);
  crypto_speed::timed(kLibrary, "x25519_shared_secret", n, [&] {
    unsigned char out[32];
    word32 len = sizeof out;
    return wc_curve25519_shared_secret(&a, &b, out, &len) == 0;
  });
  // What every new TLS session pays for its own random generator.
  crypto_speed::timed(kLibrary, "rng_init_free", n, [&] {
    WC_RNG r;
    const bool ok = wc_InitRng(&r) == 0;
    wc_FreeRng(&r);
    return ok;
  });
  return 0;
}
