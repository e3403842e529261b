// tls_collector.hpp — exports the TLS counters (metrics/tls_counters.hpp) as
// Prometheus families, copied at scrape time: the TLS code keeps bumping its
// plain atomics, the scrape reads them (Counter::set from a collector).
//   sluice_tls_handshakes_total{version="1.2|1.3", kind="full|resumed"}
//   sluice_tls_handshake_failures_total{reason="error|timeout|busy"}
//   sluice_tls_tickets_total{event="issued|offered|refused"}
//   sluice_tls_ocsp_total{event="stapled|stale_skipped"}
//   sluice_starttls_plaintext_discarded_total
#pragma once
#include "metrics/registry.hpp"

namespace sluice::metrics {

void register_tls_collector(Registry& registry);

}  // namespace sluice::metrics
