#include "metrics/sluice_metrics.hpp"

#include "metrics/tls_collector.hpp"

#include "metrics/process_collector.hpp"

namespace sluice::metrics {

namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(SessionReject::count_)> kRejectNames = {
    "connection_limit", "per_ip_limit", "sync_error", "proxy_refused", "xclient_refused"};

struct OutcomeLabels {
  std::string_view outcome, reason;
};
constexpr std::array<OutcomeLabels, static_cast<std::size_t>(MessageOutcome::count_)> kOutcomeLabels = {{
    {"accepted", "ok"},
    {"rejected", "size"},
    {"rejected", "bare_line_ending"},
    {"rejected", "overlong_line"},
    {"rejected", "other"},
    {"deferred", "no_space"},
    {"deferred", "spool_error"},
    {"deferred", "filter"},
    {"rejected", "policy"},
    {"deferred", "policy"},
}};

constexpr std::array<std::string_view, static_cast<std::size_t>(SmtpCommand::count_)> kCommandNames = {
    "helo", "ehlo", "mail", "rcpt", "data", "bdat", "rset", "noop", "quit", "xclient", "other"};

constexpr std::array<std::string_view, 4> kClassNames = {"2xx", "3xx", "4xx", "5xx"};

bool iequal_prefix(std::string_view line, std::string_view verb) {
  if (line.size() < verb.size()) return false;
  for (std::size_t i = 0; i < verb.size(); ++i) {
    char c = line[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != verb[i]) return false;
  }
  // The verb ends the line or is followed by a space (CRLF already stripped).
  return line.size() == verb.size() || line[verb.size()] == ' ' || line[verb.size()] == '\r';
}

// Latency buckets for a group commit: fsync on SSDs is 0.1–10 ms.
std::vector<double> commit_seconds_buckets() { return exponential_buckets(0.0001, 2, 16); }  // 100 µs .. 3.3 s

}  // namespace

SmtpCommand command_of(std::string_view line) {
  for (std::size_t i = 0; i + 1 < kCommandNames.size(); ++i)
    if (iequal_prefix(line, kCommandNames[i])) return static_cast<SmtpCommand>(i);
  return SmtpCommand::other;
}

SluiceMetrics::SluiceMetrics()
    : connections_accepted(registry.counter("sluice_connections_accepted_total",
                                            "TCP connections accepted, by listener (before the limits check).",
                                            {"listener"})),
      connections_open(registry.gauge("sluice_connections_open",
                                      "SMTP sessions open now, by listener.", {"listener"})),
      sessions_rejected(registry.counter("sluice_sessions_rejected_total",
                                         "Sessions refused or ended before any mail, by reason.", {"reason"})),
      messages(registry.counter("sluice_messages_total",
                                "Messages at the end of their data (final dot or BDAT LAST), by outcome and reason.",
                                {"outcome", "reason"})),
      replies(registry.counter("sluice_smtp_replies_total",
                               "Replies to SMTP commands, by command and reply class (end-of-data verdicts are in "
                               "sluice_messages_total).",
                               {"command", "class"})),
      bytes_received(registry.counter("sluice_received_bytes_total", "Bytes read from SMTP clients.").with({})),
      pipeconnect_advertised(registry.counter("sluice_pipeconnect_advertised_total",
                                              "EHLO replies that offered PIPECONNECT.").with({})),
      pipeconnect_used(registry.counter("sluice_pipeconnect_used_total",
                                        "Sessions whose client sent commands before the banner, as allowed.").with({})),
      xclient_sessions(registry.counter("sluice_xclient_sessions_total",
                                        "Sessions whose client identity was set by XCLIENT.").with({})),
      proxy_sessions(registry.counter("sluice_proxy_sessions_total",
                                      "Sessions whose client identity came from a PROXY header.").with({})),
      spool_commit_seconds(registry.histogram("sluice_spool_commit_seconds",
                                              "Duration of one spool commit (a group of messages made durable).", {},
                                              commit_seconds_buckets()).with({})),
      spool_messages_per_commit(registry.histogram("sluice_spool_messages_per_commit",
                                                   "Messages made durable by one spool commit.", {},
                                                   {1, 2, 4, 8, 16, 32, 64, 128, 256, 512}).with({})),
      spool_commit_failures(registry.counter("sluice_spool_commit_failures_total",
                                             "Spool commits that failed, by reason.", {"reason"})),
      queue_messages(registry.gauge("sluice_queue_messages", "Messages in the queue, by state.", {"state"})),
      dns_queries(registry.counter("sluice_dns_queries_total",
                                   "DNS queries sent to the resolvers (cache misses), by record type and outcome.",
                                   {"type", "status"})),
      dns_query_seconds(registry.histogram("sluice_dns_query_seconds",
                                           "Time from sending a DNS query to its answer (cache misses only).", {},
                                           {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                            2.5, 5, 10})
                            .with({})),
      dns_cache_lookups(registry.counter("sluice_dns_cache_lookups_total",
                                         "DNS questions asked of the per-worker cache: hit, miss (asked upstream) or coalesced (answered by a query already in flight).",
                                         {"result"})),
      filter_results(registry.counter("sluice_filter_results_total",
                                      "Results of the message filters (SPF, DKIM per signature, DMARC), by filter and result.",
                                      {"filter", "result"})),
      filter_seconds(registry.histogram("sluice_filter_seconds",
                                        "Time a filter kept a message waiting after its end of data (0 when its "
                                        "lookups were done by then).",
                                        {"filter"},
                                        {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                         2.5, 5, 10, 30})),
      filter_failures(registry.counter("sluice_filter_failures_total",
                                       "Filters that did not finish: timed out, or failed to run.",
                                       {"filter", "reason"})),
      tls_certificate_not_after(registry.computed_gauges(
          "sluice_tls_certificate_not_after_timestamp_seconds",
          "When each TLS certificate in use expires (its leaf's notAfter), in seconds since the epoch, by listener "
          "and certificate file.",
          {"listener", "certificate"})),
      tls_ocsp_next_update(registry.computed_gauges(
          "sluice_tls_ocsp_next_update_timestamp_seconds",
          "The nextUpdate of each certificate's OCSP response (the one stapled, or a stale one refused), in seconds "
          "since the epoch; no sample without an OCSP file or a response read.",
          {"listener", "certificate"})) {
  for (std::size_t i = 0; i < rejected_.size(); ++i) rejected_[i] = &sessions_rejected.with({kRejectNames[i]});
  for (std::size_t i = 0; i < messages_.size(); ++i)
    messages_[i] = &messages.with({kOutcomeLabels[i].outcome, kOutcomeLabels[i].reason});
  for (std::size_t c = 0; c < replies_.size(); ++c)
    for (std::size_t k = 0; k < 4; ++k) replies_[c][k] = &replies.with({kCommandNames[c], kClassNames[k]});
  register_process_collector(registry);
  register_tls_collector(registry);
}

ListenerMetrics SluiceMetrics::listener(const std::string& name) {
  return ListenerMetrics{&connections_accepted.with({name}), &connections_open.with({name})};
}

void SluiceMetrics::reply(SmtpCommand c, int code) {
  const int k = code / 100 - 2;
  if (k < 0 || k > 3) return;
  replies_[static_cast<std::size_t>(c)][static_cast<std::size_t>(k)]->inc();
}

SluiceMetrics::MessageTotals SluiceMetrics::message_totals() const {
  MessageTotals t;
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    const auto n = static_cast<std::uint64_t>(messages_[i]->value());
    const std::string_view outcome = kOutcomeLabels[i].outcome;
    (outcome == "accepted" ? t.accepted : outcome == "rejected" ? t.rejected : t.deferred) += n;
  }
  return t;
}

SluiceMetrics& sluice_metrics() {
  static SluiceMetrics m;
  return m;
}

}  // namespace sluice::metrics
