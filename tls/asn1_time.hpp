// asn1_time.hpp — a wolfSSL ASN.1 time (a certificate's notAfter, an OCSP
// response's nextUpdate) as seconds since the epoch. For tls/*.cpp files
// that already speak wolfSSL; include <wolfssl/options.h> first.
#pragma once
#include <wolfssl/ssl.h>

#include <ctime>

namespace sluice::tls {

// 0 for a null or unreadable time.
std::time_t unix_time_of(const WOLFSSL_ASN1_TIME* t);

}  // namespace sluice::tls
