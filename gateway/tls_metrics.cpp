#include "gateway/tls_metrics.hpp"

#include "metrics/sluice_metrics.hpp"

namespace sluice::gateway {

namespace {

using Reading = metrics::ComputedGauges::Reading;

// One sample per certificate whose `field` is known (not 0).
Reading dates(const tls::ContextRegistry& registry, std::time_t tls::ServerContext::CertificateDates::*field) {
  Reading out;
  for (const auto& [listener, d] : registry.certificate_dates())
    if (d.*field != 0) out.push_back({{listener, d.file}, static_cast<double>(d.*field)});
  return out;
}

}  // namespace

TlsCertificateMetrics::TlsCertificateMetrics(const tls::ContextRegistry& registry) {
  auto& m = metrics::sluice_metrics();
  m.tls_certificate_not_after.set_source(
      [&registry] { return dates(registry, &tls::ServerContext::CertificateDates::not_after); });
  m.tls_ocsp_next_update.set_source(
      [&registry] { return dates(registry, &tls::ServerContext::CertificateDates::ocsp_next_update); });
}

TlsCertificateMetrics::~TlsCertificateMetrics() {
  auto& m = metrics::sluice_metrics();
  m.tls_certificate_not_after.set_source({});
  m.tls_ocsp_next_update.set_source({});
}

}  // namespace sluice::gateway
