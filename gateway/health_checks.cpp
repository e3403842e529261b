#include "gateway/health_checks.hpp"

#include <string>

namespace sluice::gateway {

metrics::HealthVerdict HealthChecks::alive() const {
  const auto now = std::chrono::steady_clock::now();
  for (const auto& w : workers_) {
    const auto silent = now - w->last_heartbeat();
    if (silent > kMaxSilence)
      return {false, "worker " + std::to_string(w->index()) + " has not run its event loop for " +
                         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent).count()) + "s"};
  }
  return {true, {}};
}

metrics::HealthVerdict HealthChecks::ready() const {
  if (draining_.load(std::memory_order_relaxed)) return {false, "draining"};
  if (!listening_.load(std::memory_order_relaxed)) return {false, "listeners not open"};
  if (!services_.spool || !services_.spool->writable()) return {false, "spool not writable"};
  const metrics::HealthVerdict a = alive();
  if (!a.ok) return a;
  return {true, {}};
}

}  // namespace sluice::gateway
