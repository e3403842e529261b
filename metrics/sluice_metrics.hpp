// sluice_metrics.hpp — the metric families Sluice itself defines, made once
// at start-up, and the handles the SMTP path bumps. docs/metrics.md lists
// every family with its labels and meaning; keep the two in step.
//
// One process-wide instance (sluice_metrics()): the registry and its fixed
// children are made on first use, before any worker starts. Everything the
// hot path touches is a pre-resolved handle (an array indexed by an enum, or
// a ListenerMetrics kept by the listener and its sessions): no lookup, no
// lock, one relaxed add on the thread's own cache line.
//
// Hooks for the spool (filled by storage/, not here):
//   auto& m = metrics::sluice_metrics();
//   m.spool_commit_seconds.observe(seconds);            // one group commit's duration
//   m.spool_messages_per_commit.observe(n);             // messages in that commit
//   m.spool_commit_failures.with({"enospc"}).inc();     // resolve once, keep the Counter&
//   m.queue_messages  // Family<Gauge> {state}: register a collector that set()s it:
//   m.registry.add_collector([&m, &queue] {
//     m.queue_messages.with({"queued"}).set(queue.count_queued()); ... });
#pragma once
#include <array>
#include <string>
#include <string_view>

#include "metrics/registry.hpp"

namespace sluice::metrics {

enum class SessionReject { connection_limit, per_ip_limit, sync_error, proxy_refused, xclient_refused, count_ };

// What became of a message at its end (the final dot or BDAT LAST).
enum class MessageOutcome {
  accepted,
  rejected_size,
  rejected_bare_line_ending,
  rejected_overlong_line,
  rejected_other,
  deferred_no_space,
  deferred_spool_error,
  deferred_filter,     // a filter failed and its on_failure is "defer"
  rejected_policy,     // operator policy refused it after the data
  deferred_policy,     // operator policy deferred it after the data
  count_
};

enum class SmtpCommand { helo, ehlo, mail, rcpt, data, bdat, rset, noop, quit, xclient, other, count_ };

// The verb at the start of a command line, case-insensitively; `other` for
// anything else (including junk): the label set stays fixed whatever clients send.
SmtpCommand command_of(std::string_view line);

// Handles for one listener, resolved once (Listener's constructor) and
// carried into each session. Children are never removed, so these stay
// valid after a reload drops the listener.
struct ListenerMetrics {
  Counter* accepted = nullptr;
  Gauge* open = nullptr;
};

class SluiceMetrics {
 public:
  SluiceMetrics();
  SluiceMetrics(const SluiceMetrics&) = delete;
  SluiceMetrics& operator=(const SluiceMetrics&) = delete;

  Registry registry;

  // Start-up and reload only: finds or makes the listener's children.
  ListenerMetrics listener(const std::string& name);

  void session_rejected(SessionReject r) { rejected_[static_cast<std::size_t>(r)]->inc(); }
  void message(MessageOutcome o) { messages_[static_cast<std::size_t>(o)]->inc(); }
  // One reply to a command, by the command and the reply's class (2xx..5xx).
  void reply(SmtpCommand c, int code);

  Family<Counter>& connections_accepted;  // {listener}
  Family<Gauge>& connections_open;        // {listener}
  Family<Counter>& sessions_rejected;     // {reason}
  Family<Counter>& messages;              // {outcome, reason}
  Family<Counter>& replies;               // {command, class}
  Counter& bytes_received;
  Counter& pipeconnect_advertised;
  Counter& pipeconnect_used;
  Counter& xclient_sessions;
  Counter& proxy_sessions;
  // Spool hooks (see the top of this file).
  Histogram& spool_commit_seconds;
  Histogram& spool_messages_per_commit;
  Family<Counter>& spool_commit_failures;  // {reason}
  Family<Gauge>& queue_messages;           // {state}
  // DNS (filters/caching_resolver.cpp).
  Family<Counter>& dns_queries;            // {type, status}: upstream queries
  Histogram& dns_query_seconds;            // upstream latency
  Family<Counter>& dns_cache_lookups;      // {result}: hit | miss | coalesced
  Family<Counter>& filter_results;         // {filter, result}: spf pass, dkim fail, dmarc reject, ...
  Family<Histogram>& filter_seconds;       // {filter}: end of data to the filter's result
  Family<Counter>& filter_failures;        // {filter, reason}: timeout | error
  // TLS certificates in use (gateway/tls_metrics.cpp sets their sources).
  ComputedGauges& tls_certificate_not_after;  // {listener, certificate}
  ComputedGauges& tls_ocsp_next_update;       // {listener, certificate}
  // Totals logged at shutdown.
  struct MessageTotals {
    std::uint64_t accepted = 0, rejected = 0, deferred = 0;
  };
  MessageTotals message_totals() const;

 private:
  std::array<Counter*, static_cast<std::size_t>(SessionReject::count_)> rejected_{};
  std::array<Counter*, static_cast<std::size_t>(MessageOutcome::count_)> messages_{};
  std::array<std::array<Counter*, 4>, static_cast<std::size_t>(SmtpCommand::count_)> replies_{};
};

SluiceMetrics& sluice_metrics();

}  // namespace sluice::metrics
