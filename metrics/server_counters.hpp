// server_counters.hpp — process-wide event counters the SMTP path bumps.
//
// Relaxed atomics: each is one uncontended-ish add on the hot path. The
// metrics issue replaces these with per-worker cells summed at scrape time
// and exposes them; until then they are logged at shutdown.
#pragma once
#include <atomic>
#include <cstdint>

namespace sluice::metrics {

struct ServerCounters {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> rejected_connection_limit{0};
  std::atomic<std::uint64_t> rejected_per_ip_limit{0};
  std::atomic<std::uint64_t> sync_errors{0};
  std::atomic<std::uint64_t> proxy_refused{0};
  std::atomic<std::uint64_t> proxy_sessions{0};
  std::atomic<std::uint64_t> xclient_sessions{0};
  std::atomic<std::uint64_t> pipeconnect_used{0};
  std::atomic<std::uint64_t> messages_accepted{0};
  std::atomic<std::uint64_t> messages_rejected{0};
  std::atomic<std::uint64_t> messages_deferred{0};
  std::atomic<std::uint64_t> bytes_received{0};

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
};

ServerCounters& server_counters();

}  // namespace sluice::metrics
