#include "metrics/tls_collector.hpp"

#include <array>

#include "metrics/tls_counters.hpp"

namespace sluice::metrics {

void register_tls_collector(Registry& registry) {
  auto& handshakes = registry.counter("sluice_tls_handshakes_total",
                                      "Completed TLS handshakes, by protocol version and full or resumed.",
                                      {"version", "kind"});
  auto& failures = registry.counter("sluice_tls_handshake_failures_total",
                                    "TLS handshakes that did not complete: error (alert, reset, bad hello), "
                                    "timeout, or busy (refused over tls.max_handshakes_per_worker).",
                                    {"reason"});
  auto& tickets = registry.counter("sluice_tls_tickets_total",
                                   "Session tickets issued, offered by clients, and refused (unknown or expired key).",
                                   {"event"});
  auto& ocsp = registry.counter("sluice_tls_ocsp_total",
                                "OCSP responses handed to the TLS library for stapling, and stale ones skipped.",
                                {"event"});
  auto& discarded = registry.counter("sluice_starttls_plaintext_discarded_total",
                                     "Sessions whose plaintext pipelined behind STARTTLS was thrown away.")
                        .with({});
  auto& libcrypto = registry.counter("sluice_tls_libcrypto_signatures_total",
                                     "Handshake signatures made by libcrypto (tls.rsa_signing, tls.ecdsa_signing), "
                                     "and failed ones, by the key's type.",
                                     {"key", "result"});
  auto& reloads = registry.counter("sluice_tls_file_reloads_total",
                                   "Certificate and key, ticket-key and OCSP files read again after they changed "
                                   "on disk: ok (taken into use) or refused (the files in use kept).",
                                   {"files", "result"});
  struct Reloads {
    const FileReloads* source;
    Counter *ok, *refused;
  };
  const TlsCounters& t = tls_counters();
  std::array<Reloads, 3> file_reloads{
      Reloads{&t.certificate_reloads, &reloads.with({"certificates", "ok"}), &reloads.with({"certificates", "refused"})},
      Reloads{&t.ticket_key_reloads, &reloads.with({"ticket_keys", "ok"}), &reloads.with({"ticket_keys", "refused"})},
      Reloads{&t.ocsp_reloads, &reloads.with({"ocsp", "ok"}), &reloads.with({"ocsp", "refused"})}};
  struct Children {
    Counter* full[kTlsVersions];
    Counter* resumed[kTlsVersions];
    Counter *error, *timeout, *busy, *issued, *offered, *refused, *stapled, *stale, *discarded;
    Counter *rsa_signed, *rsa_sign_failed, *ecdsa_signed, *ecdsa_sign_failed;
  } c{{&handshakes.with({"1.2", "full"}), &handshakes.with({"1.3", "full"})},
      {&handshakes.with({"1.2", "resumed"}), &handshakes.with({"1.3", "resumed"})},
      &failures.with({"error"}),
      &failures.with({"timeout"}),
      &failures.with({"busy"}),
      &tickets.with({"issued"}),
      &tickets.with({"offered"}),
      &tickets.with({"refused"}),
      &ocsp.with({"stapled"}),
      &ocsp.with({"stale_skipped"}),
      &discarded,
      &libcrypto.with({"rsa", "ok"}),
      &libcrypto.with({"rsa", "failed"}),
      &libcrypto.with({"ecdsa", "ok"}),
      &libcrypto.with({"ecdsa", "failed"})};
  registry.add_collector([c, file_reloads] {
    const TlsCounters& t = tls_counters();
    auto get = [](const std::atomic<std::uint64_t>& a) { return static_cast<double>(a.load(std::memory_order_relaxed)); };
    for (std::size_t v = 0; v < kTlsVersions; ++v) {
      c.full[v]->set(get(t.handshakes_full[v]));
      c.resumed[v]->set(get(t.handshakes_resumed[v]));
    }
    c.error->set(get(t.handshake_failures));
    c.timeout->set(get(t.handshake_timeouts));
    c.busy->set(get(t.handshakes_refused_busy));
    c.issued->set(get(t.tickets_issued));
    c.offered->set(get(t.tickets_offered));
    c.refused->set(get(t.tickets_refused));
    c.stapled->set(get(t.ocsp_lookups));
    c.stale->set(get(t.ocsp_stale_skipped));
    c.discarded->set(get(t.starttls_plaintext_discarded));
    c.rsa_signed->set(get(t.rsa_signatures_libcrypto));
    c.rsa_sign_failed->set(get(t.rsa_signature_failures));
    c.ecdsa_signed->set(get(t.ecdsa_signatures_libcrypto));
    c.ecdsa_sign_failed->set(get(t.ecdsa_signature_failures));
    for (const Reloads& r : file_reloads) {
      r.ok->set(get(r.source->ok));
      r.refused->set(get(r.source->refused));
    }
  });
}

}  // namespace sluice::metrics
