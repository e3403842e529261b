// certificate_expiry.hpp — which certificates in use have expired or expire
// soon, said where an operator looks without Prometheus: a warning line in
// the log (ContextRegistry::log_expiry: after start and SIGHUP, then once a
// day while it stays due) and a warning from `sluice check-config`. Sluice
// still serves such a certificate: a client doing opportunistic TLS may not
// check dates, and refusing to start would take the plaintext service down too.
// The metrics have the dates themselves (gateway/tls_metrics.hpp).
#pragma once
#include <chrono>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "tls/server_context.hpp"

namespace sluice::tls {

// Warn this long before notAfter: renewal tools (certbot, cert-manager)
// renew 30 days ahead, so two weeks left means renewal has been failing.
inline constexpr std::chrono::seconds kExpiryWarning = std::chrono::hours(24 * 14);

struct ExpiryWarning {
  std::string listener;
  std::string file;        // the certificate's chain file
  std::time_t not_after = 0;
  bool expired = false;
  long days = 0;           // whole days left (expired: whole days since)
  std::string text() const;  // "expired 3 days ago" / "expires in 5 days"
};

std::vector<ExpiryWarning> expiry_warnings(
    const ListenerCertificateDates& certificates, std::time_t now,
    std::chrono::seconds window = kExpiryWarning);

// Its log line: tls_certificate_expired or tls_certificate_expires_soon.
void log_expiry_warning(const ExpiryWarning& w);

}  // namespace sluice::tls
