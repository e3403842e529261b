// context_registry.hpp — the TLS contexts of all listeners, kept current.
//
// apply() builds a ServerContext for every listener with tls != "off" from a
// new config, all or nothing: one unusable certificate or key refuses the
// whole config (start-up fails, a SIGHUP reload is refused) and the contexts
// in use stay. check_files() runs on the main thread every
// tls.reload_check_interval: it rebuilds a listener's context when its
// certificate or key files changed (a broken new file is refused with a log
// line and the old context stays; the same files are not tried or logged
// again until they change), re-reads changed OCSP files, and reloads a
// shared ticket-key file (the same way). get() is for any thread (the listeners, at
// accept): a session keeps the context it got.
// The ticket keys are one set for the process, kept across reloads unless
// their settings change, so a SIGHUP does not invalidate issued tickets.
#pragma once
#include <atomic>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/config.hpp"
#include "tls/server_context.hpp"

namespace sluice::tls {

class ContextRegistry {
 public:
  bool apply(const gateway::Config& config, std::string& error);
  std::shared_ptr<ServerContext> get(const std::string& listener) const;
  bool any() const { return !contexts_.load()->empty(); }
  void check_files();
  // Every listener's certificates with their dates, for the metrics; any thread.
  ListenerCertificateDates certificate_dates() const;
  // Warns of certificates expired or within tls/certificate_expiry.hpp's
  // window: each once after apply(), then again when its whole days left (or
  // since) change, so a renewal that keeps failing is named once a day.
  // Main thread; check_files() calls it.
  void log_expiry(std::time_t now);
  // The process's ticket keys (nullptr when tickets are off).
  std::shared_ptr<TicketKeys> ticket_keys() const { return keys_; }

 private:
  using Map = std::map<std::string, std::shared_ptr<ServerContext>>;
  std::shared_ptr<TicketKeys> keys_for(const gateway::TlsConfig& tls, std::string& error);

  std::atomic<std::shared_ptr<const Map>> contexts_{std::make_shared<const Map>()};
  gateway::ConfigPtr config_;  // what the contexts were built from (main thread only)
  std::shared_ptr<TicketKeys> keys_;
  // Per listener: its files' signature when a rebuild last refused them.
  std::map<std::string, std::string> refused_;
  // Per listener and certificate file: the days last logged by log_expiry().
  std::map<std::string, long> expiry_logged_;
};

}  // namespace sluice::tls
