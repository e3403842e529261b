// tls_counters.hpp — process-wide TLS event counters, in one place so the
// metrics endpoint can export them as they are (relaxed atomics, bumped by
// the workers; read at scrape time or logged at shutdown).
// Versions are indexed by TlsVersionIndex: TLS 1.2 and TLS 1.3 (older ones
// are never negotiated).
#pragma once
#include <array>
#include <atomic>
#include <cstdint>

namespace sluice::metrics {

enum TlsVersionIndex : std::size_t { kTls12 = 0, kTls13 = 1, kTlsVersions = 2 };

struct FileReloads {
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> refused{0};
};

struct TlsCounters {
  std::array<std::atomic<std::uint64_t>, kTlsVersions> handshakes_full{};
  std::array<std::atomic<std::uint64_t>, kTlsVersions> handshakes_resumed{};
  std::atomic<std::uint64_t> handshake_failures{0};   // bad ClientHello, no shared cipher, alert, reset
  std::atomic<std::uint64_t> handshake_timeouts{0};
  std::atomic<std::uint64_t> handshakes_refused_busy{0};  // over tls.max_handshakes_per_worker
  std::atomic<std::uint64_t> tickets_issued{0};
  std::atomic<std::uint64_t> tickets_offered{0};       // the client brought one
  std::atomic<std::uint64_t> tickets_refused{0};       // unknown key or failed to open
  std::atomic<std::uint64_t> ocsp_lookups{0};        // wolfSSL took our OCSP response (it caches it until nextUpdate)
  std::atomic<std::uint64_t> ocsp_stale_skipped{0};
  std::atomic<std::uint64_t> starttls_plaintext_discarded{0};  // sessions that pipelined after STARTTLS
  std::atomic<std::uint64_t> rsa_signatures_libcrypto{0};  // handshake signatures made by tls/rsa_signer.hpp
  std::atomic<std::uint64_t> rsa_signature_failures{0};    // ... that failed (the handshake fails with them)
  std::atomic<std::uint64_t> ecdsa_signatures_libcrypto{0};  // the same by tls/ecdsa_signer.hpp
  std::atomic<std::uint64_t> ecdsa_signature_failures{0};
  // Files changed on disk and read again (tls/context_registry.cpp,
  // tls/ocsp_staple.cpp): taken into use, or refused (the old stays).
  FileReloads certificate_reloads;
  FileReloads ticket_key_reloads;
  FileReloads ocsp_reloads;

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
};

TlsCounters& tls_counters();

}  // namespace sluice::metrics
