// tls_metrics.hpp — exports the dates of the TLS certificates in use: each
// certificate's notAfter and its OCSP response's nextUpdate, per listener,
// read from the context registry at every scrape (so a certificate replaced
// on disk or dropped by a reload shows as it is now). An operator alerts on
// them: `sluice_tls_certificate_not_after_timestamp_seconds - time() < 14 *
// 86400` (docs/metrics.md).
#pragma once

#include "tls/context_registry.hpp"

namespace sluice::gateway {

class TlsCertificateMetrics {
 public:
  explicit TlsCertificateMetrics(const tls::ContextRegistry& registry);
  // Clears the sources, waiting for a scrape that is reading them.
  ~TlsCertificateMetrics();
  TlsCertificateMetrics(const TlsCertificateMetrics&) = delete;
  TlsCertificateMetrics& operator=(const TlsCertificateMetrics&) = delete;
};

}  // namespace sluice::gateway
