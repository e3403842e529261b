#include <wolfssl/options.h>

#include "tls/asn1_time.hpp"

namespace sluice::tls {

std::time_t unix_time_of(const WOLFSSL_ASN1_TIME* t) {
  struct tm tm {};
  if (!t || wolfSSL_ASN1_TIME_to_tm(t, &tm) != WOLFSSL_SUCCESS) return 0;
  return timegm(&tm);
}

}  // namespace sluice::tls
