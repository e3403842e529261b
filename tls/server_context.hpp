// server_context.hpp — the TLS server side of one listener: its
// certificates (one wolfSSL context each, chosen by SNI), protocol versions,
// cipher list, session tickets (ticket_keys.hpp) and OCSP staples.
//
// Built on the main thread from the config (build()), at start, on SIGHUP,
// and when a certificate or key file changes (context_registry.hpp); never
// changed afterwards, except the OCSP staples, which are swapped atomically.
// A session holds a shared_ptr to the context it started with, so a reload
// never pulls certificates from under a handshake.
// Sessions are created by new_session(); the stream that drives it lives in
// protocol/tls_stream.hpp. No Asio and no wolfSSL types in this header.
// Security: stateless resumption only (tickets); the server-side session
// cache is off, so nothing about past sessions is kept in memory.
#pragma once
#include <atomic>
#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/config.hpp"
#include "tls/ticket_keys.hpp"

namespace sluice::tls {

class OcspStaple;

// What the handshake callbacks saw, per session (read after the handshake).
struct HandshakeNotes {
  bool ticket_offered = false;   // the client brought a ticket (or TLS 1.3 PSK)
  bool ticket_opened = false;    // ... and we could open it
  bool ticket_issued = false;    // we sealed a new one for it
  bool client_asked_ticket = false;  // ClientHello: session_ticket (1.2) or psk_key_exchange_modes (1.3)
  bool ocsp_requested = false;
  bool hello_seen = false;       // the ClientHello was read whole before the handshake
  bool client_takes_ecdsa = false;  // ... and it can take an ECDSA certificate
  std::string sni;               // server name the client asked for, sanitised
};

// The client's certificate, when one was asked for (tls.client_ca_file).
struct PeerCertificate {
  bool presented = false;        // the client sent one
  bool verified = false;         // ... and it chains to tls.client_ca_file, in date
  std::string subject;           // its subject, one line, sanitised (for logs and Received)
  std::vector<std::string> names;  // CN and DNS subjectAltNames, lower case
  std::string error;             // why it did not verify
};

// After the handshake: what the client's certificate says (a WOLFSSL*).
PeerCertificate peer_certificate(void* ssl);

class ServerContext {
 public:
  // nullptr, with `error` naming the listener and file, when a certificate,
  // key or the cipher list is unusable.
  static std::shared_ptr<ServerContext> build(const std::string& listener,
                                              const std::vector<gateway::TlsCertificateConfig>& certs,
                                              const gateway::TlsConfig& tls, std::shared_ptr<TicketKeys> keys,
                                              std::string& error);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // A new server session (a WOLFSSL*, opaque here) whose callbacks write
  // into `notes`, which must outlive it. nullptr when out of memory.
  void* new_session(HandshakeNotes* notes) const;
  // stat() of its certificate, key and client CA files now (tls/file_signature.hpp),
  // and as it was just before build() read them: a file replaced while it
  // was being read shows as changed at the next check.
  std::string files_signature() const;
  const std::string& built_signature() const { return signature_; }
  // Re-reads OCSP files that changed; logs stale or broken ones. Main thread.
  void refresh_ocsp() const;

  const std::string& listener() const { return listener_; }

  // What each certificate in use says of its dates, for the metrics.
  struct CertificateDates {
    std::string file;                 // the certificate's chain file, as configured
    std::time_t not_after = 0;        // the leaf's notAfter; 0 if unreadable
    std::time_t ocsp_next_update = 0; // its OCSP response's nextUpdate; 0: no file, none read, or none in it
  };
  std::vector<CertificateDates> certificate_dates() const;

  struct Certificate;  // one wolfSSL context and what it was built from

 private:
  ServerContext() = default;
  std::string listener_;
  std::vector<std::unique_ptr<Certificate>> certs_;  // [0]: default
  std::shared_ptr<TicketKeys> keys_;
  std::vector<std::string> watched_files_;  // certificates, keys, tls.client_ca_file: what build() read
  std::string signature_;  // files' stat() at build time
};

// (listener, dates) for each certificate of each listener: what the metrics
// and the expiry warnings read (context_registry.hpp, certificate_expiry.hpp).
using ListenerCertificateDates = std::vector<std::pair<std::string, ServerContext::CertificateDates>>;

}  // namespace sluice::tls
