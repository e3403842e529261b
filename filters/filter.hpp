// filter.hpp — what a message filter is: a small class with hooks at the SMTP
// phases it cares about, leaving its verdict in the transaction's
// FilterResults. The chain (filters/filter_chain.hpp) calls the hooks, bounds
// each filter's end of data by its own deadline and decides what a failure
// means (docs/filters.md, "The filter chain").
//
// Hooks, in the order a session sees them:
//   on_connect   the client is known. The chain is made at the session's
//                first MAIL (an idle session holds none), so the first call
//                comes then, with the client as the session has it by then
//                (after a PROXY header or XCLIENT); again after XCLIENT names
//                another client. Synchronous: note facts.
//   on_helo      the HELO/EHLO name: at the chain's making if one was
//                given, then each accepted HELO/EHLO.
//   on_mail      MAIL accepted. Start lookups that need only the envelope
//                (SPF's check_host runs from here while the client sends
//                RCPT and the message). Must not block; may spawn work on
//                `executor` and must be able to drop it in reset().
//   on_rcpt      each accepted recipient (DCC passes the envelope on; a
//                per-recipient answer comes back at the end of data).
//   on_header_block  the header block is complete (its fields as stored,
//                bounded): ARC verification reads its ARC-* fields here.
//   on_data      the message bytes as the client sent them (dot-unstuffed,
//                before our headers), in order, synchronously: hashing, never
//                I/O (DKIM's body hashes, DCC's streaming to its daemon will
//                buffer here and send from on_end_of_data or its own task).
//   on_end_of_data  the message is complete: finish (await lookups, key
//                fetches, a daemon's answer) and write the result. Filters
//                run in chain order, so a later one reads an earlier one's
//                result (DMARC reads SPF and DKIM; ARC verification reads
//                the header block; ARC signing happens on the way out, not
//                here).
//   fail         the chain gave up on it (deadline, exception): record a
//                temperror-like result so headers and policy still see it.
//   reset        RSET, a new MAIL, or the session's end: cancel background
//                work; nothing may touch this object after it returns.
// Threads: one chain per session, all hooks on the session's worker.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/dkim_result.hpp"
#include "filters/dmarc_result.hpp"
#include "filters/header_block_scanner.hpp"
#include "filters/spf_result.hpp"
#include "gateway/network_list.hpp"

namespace sluice::filters {

class Resolver;

// What the session knows about the client.
struct ConnectFacts {
  std::string client_addr;   // the effective client (after PROXY/XCLIENT)
  std::string client_name;   // as a front end named it, else empty
  std::string listener;
};

// What the session knows at MAIL.
struct MailFacts {
  std::optional<gateway::IpBytes> client_ip;  // nullopt: not an IP (XCLIENT ADDR=[UNAVAILABLE])
  std::string helo;
  std::string sender;          // MAIL FROM without <>, "" for the null sender
  std::string receiving_host;  // our name
};

// Every filter's verdict on the current message; what the Authentication-
// Results header, the policy and the logs are made from.
struct FilterResults {
  std::optional<SpfRequest> spf_request;
  std::optional<SpfResult> spf;          // unset: SPF did not run
  bool dkim_ran = false;
  std::vector<DkimResult> dkim;          // one per signature; empty + dkim_ran: no signature
  std::optional<DmarcResult> dmarc;      // unset: DMARC did not run
  FromHeaderFacts from;                  // the author, as the header block said
  std::string header_copy;               // the header block (bounded), for failure reports
  std::vector<std::string> failed;       // filters that timed out or failed ("spf", ...)
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  virtual void on_connect(const ConnectFacts&) {}
  virtual void on_helo(std::string_view /*helo*/) {}
  virtual void on_mail(const MailFacts&, const boost::asio::any_io_executor&) {}
  virtual void on_rcpt(std::string_view /*recipient*/) {}
  virtual void on_header_block(std::string_view /*fields*/) {}
  virtual void on_data(std::string_view) {}
  virtual boost::asio::awaitable<void> on_end_of_data(FilterResults& results) = 0;
  virtual void fail(FilterResults& results, std::string_view why) = 0;
  virtual void reset() {}
  // The result word for metrics ("pass", "fail", ...), after on_end_of_data or fail.
  virtual std::vector<std::string> result_words(const FilterResults& results) const = 0;
};

}  // namespace sluice::filters
