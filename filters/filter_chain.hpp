// filter_chain.hpp — the filters of one SMTP session, run at its phases.
//
// The connection owns one FilterChain (when [filters] is enabled) and calls:
//   start()        at each accepted MAIL: a new transaction; lookups that
//                  need only the envelope start now (SPF), in the background;
//   data()         with each piece of decoded message data: the header block
//                  scanner drops forged Authentication-Results fields (ours)
//                  and notes From; each filter hashes what it needs; what is
//                  to be stored is appended to `to_store`;
//   data_end()     after the last piece (writes out what the scanner held);
//   end_of_data()  awaits each filter in order (SPF, DKIM, DMARC), each
//                  under its own deadline, and returns the header fields to
//                  add and whether a failure means 451;
//   reset()        RSET, a refused message, the end of the session.
// A failure (deadline or exception) follows the filter's on_failure:
// "continue" records temperror and goes on (Exim's defer_ok), "defer" makes
// the message 451 4.4.3. Metrics: sluice_filter_results_total,
// sluice_filter_seconds, sluice_filter_failures_total (docs/metrics.md).
// Threads: the session's worker only.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "filters/filter.hpp"
#include "gateway/config.hpp"

namespace sluice::filters {

class PublicSuffixList;

struct ChainOutcome {
  std::string added_headers;  // Authentication-Results (and Received-SPF), CRLF-terminated
  bool defer = false;         // a failed filter's on_failure is "defer"
  std::string defer_reason;   // "spf timed out after 30s"
};

class FilterChain {
 public:
  // The process-wide list, loaded at start (gateway) before any session.
  FilterChain(Resolver& resolver, std::shared_ptr<const PublicSuffixList> psl, const gateway::FiltersConfig& config,
              std::string our_name);
  ~FilterChain();

  // Adds a filter at the end of the chain (ARC, DCC later; tests). `settings`
  // must outlive the chain.
  void add(std::unique_ptr<Filter> filter, const gateway::FilterSettings* settings);

  // Session hooks, passed to every filter (whether or not the client is
  // judged: a filter may need the facts before it knows).
  void connect(const ConnectFacts& facts);
  void helo(std::string_view name);
  void rcpt(std::string_view recipient);

  // judged = false: this client is not filtered (skip rules); forged
  // Authentication-Results are still removed.
  void start(const MailFacts& facts, const boost::asio::any_io_executor& executor, bool judged);
  void data(std::string_view in, std::string& to_store);
  void data_end(std::string& to_store);
  boost::asio::awaitable<ChainOutcome> end_of_data();
  void reset();
  // A policy control for this transaction ("spf", "dkim", "dmarc"): the
  // filter does not run (DMARC's status becomes "off", as in the seeds).
  void disable(std::string_view filter);

  const FilterResults& results() const { return results_; }
  unsigned removed_authentication_results() const;
  const std::string& authserv_id() const { return authserv_id_; }

 private:
  struct Entry {
    std::unique_ptr<Filter> filter;
    const gateway::FilterSettings* settings;
  };
  const gateway::FiltersConfig& config_;
  std::string authserv_id_;
  std::vector<Entry> filters_;
  std::optional<HeaderBlockScanner> scanner_;
  FilterResults results_;
  bool judged_ = false;
  bool header_block_seen_ = false;  // on_header_block has been called for this message
  std::vector<std::string> disabled_;  // this transaction's controls
};

// The shared Public Suffix List (filters/public_suffix.hpp, Debian's file),
// loaded on first call; the gateway calls it at start so no worker loads it.
std::shared_ptr<const PublicSuffixList> shared_public_suffix_list(std::string* error = nullptr);

}  // namespace sluice::filters
