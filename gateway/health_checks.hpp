// health_checks.hpp — what /healthz and /readyz answer for this process
// (served by metrics/http_server.hpp on the metrics thread).
//
// Alive (/healthz): every worker's event loop ran its heartbeat timer within
// kMaxSilence. A worker stuck in a handler (a bug, a blocking call) stops
// beating, and the process should be restarted; nothing else makes it
// unhealthy, so a full disk or a drain never gets a working process killed.
// Ready (/readyz): the process should be sent new mail: its listeners are
// open, the spool is writable (Spool::writable()), and it is not draining.
// A load balancer takes it out of rotation on the first SIGTERM, before the
// listeners close.
// Thread safety: the state setters are called from the main thread, the
// checks from the metrics thread; everything shared is atomic.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "gateway/services.hpp"
#include "gateway/worker.hpp"
#include "metrics/http_server.hpp"

namespace sluice::gateway {

class HealthChecks {
 public:
  static constexpr std::chrono::seconds kMaxSilence{5};

  HealthChecks(const std::vector<std::unique_ptr<Worker>>& workers, const Services& services)
      : workers_(workers), services_(services) {}

  void set_listening(bool on) { listening_.store(on, std::memory_order_relaxed); }
  void set_draining() { draining_.store(true, std::memory_order_relaxed); }

  metrics::HealthVerdict alive() const;
  metrics::HealthVerdict ready() const;

 private:
  const std::vector<std::unique_ptr<Worker>>& workers_;  // fixed after start-up
  const Services& services_;
  std::atomic<bool> listening_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace sluice::gateway
