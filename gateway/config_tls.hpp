// config_tls.hpp — the TLS parts of the configuration: [tls] and the
// listener keys `tls` and [[listener.tls_certificate]] (docs/tls.md).
// Only the shape is checked here; certificate and key files are read by
// tls::ContextRegistry when a config is put in use, so a broken file refuses
// the start or the reload there, with the file named.
#pragma once
#include "gateway/config.hpp"
#include "gateway/config_values.hpp"

namespace sluice::gateway {

void read_tls(TableReader& r, TlsConfig& tls);
// Reads `tls` and `tls_certificate` of one [[listener]] table.
void read_listener_tls(TableReader& r, ListenerConfig& l);
// A listener with tls != "off" needs a certificate, its own or [tls]'s.
void check_listeners_tls(const std::vector<ListenerConfig>& ls, const TlsConfig& tls, ProblemSink& sink);

}  // namespace sluice::gateway
