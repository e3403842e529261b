// forensic_submission.cpp — a DMARC failure report (filters/
// dmarc_forensic_report.hpp) becomes a new message in our own queue, from
// the operator's dmarc_forensic_sender to the domain's ruf= addresses, and
// leaves like any other mail. Submitted in the background: the client that
// sent the reported message never waits for it. Addresses outside the
// policy domain get reports only when they say they want them (RFC 7489 7.1).
#include <boost/asio/co_spawn.hpp>
#include <ctime>

#include "filters/authentication_results.hpp"
#include "filters/dmarc_forensic_report.hpp"
#include "filters/dmarc_report_destination.hpp"
#include "filters/filter_chain.hpp"
#include "filters/resolver.hpp"
#include "gateway/log.hpp"
#include "protocol/connection.hpp"
#include "storage/message_id.hpp"

namespace sluice::protocol {

namespace asio = boost::asio;

namespace {

// Everything the report needs, copied: the session goes on to its next
// message while the destinations are checked.
struct Submission {
  filters::FilterResults results;
  filters::ForensicFacts facts;
  std::vector<std::string> candidates;  // ruf= addresses before RFC 7489 7.1's check
  std::string report;
  storage::Envelope envelope;
};

// The completion handler holds the Submission until this returns. No
// authorized destination: nothing is queued (an empty recipient list).
asio::awaitable<std::error_code> submit(storage::Spool* spool, filters::Resolver* dns, Submission* s) {
  auto psl = filters::shared_public_suffix_list();
  if (!dns || !psl) co_return std::make_error_code(std::errc::operation_not_supported);
  const filters::DmarcResult& d = *s->results.dmarc;
  const std::string policy_domain = d.used_domain.empty() ? d.from_domain : d.used_domain;
  std::vector<std::string> rcpts = co_await filters::authorized_report_addresses(*dns, *psl, policy_domain, s->candidates);
  if (rcpts.empty()) co_return std::error_code{};
  s->report = filters::forensic_report(s->results, s->facts, rcpts);
  for (const auto& a : rcpts) s->envelope.recipients.push_back({a, 0, {}});
  s->envelope.size = s->report.size();
  auto writer = spool->begin(s->envelope.id);
  std::error_code ec = co_await writer->append(s->report);
  if (!ec) ec = co_await writer->commit(s->envelope);
  co_return ec;
}

}  // namespace

void Connection::send_forensic_report(std::string_view delivery_result) {
  if (!filters_ || cfg_.filters.dmarc_forensic_sender.empty() || !policy_controls_.count("dmarc_enable_forensic"))
    return;
  const filters::FilterResults& r = filters_->results();
  if (!filters::forensic_report_wanted(r)) return;
  auto s = std::make_shared<Submission>();
  filters::ForensicFacts& f = s->facts;
  f.reporter = cfg_.smtp.hostname;
  f.sender = cfg_.filters.dmarc_forensic_sender;
  f.client_ip = session_.client.addr;
  f.mail_from = tx_.null_sender ? std::string() : tx_.sender.str();
  std::string ar = filters::authentication_results_header(filters_->authserv_id(), r);
  while (!ar.empty() && (ar.back() == '\n' || ar.back() == '\r')) ar.pop_back();
  f.authentication_results = std::move(ar);
  f.delivery_result = std::string(delivery_result);
  f.arrival = std::time(nullptr);
  s->envelope.id = storage::make_message_id();
  f.message_id = s->envelope.id;
  // The size limits of ruf= (e.g. "!10m") are checked against the report.
  const std::string probe = filters::forensic_report(r, f, {});
  s->candidates = filters::forensic_recipients(*r.dmarc->record, probe.size());
  if (s->candidates.empty()) return;
  s->results = r;
  s->envelope.sender = cfg_.filters.dmarc_forensic_sender;
  s->envelope.received_at = f.arrival;
  s->envelope.protocol = "local";
  s->envelope.origin = "dmarc-forensic";
  const std::string about = tx_.id, domain = r.dmarc->from_domain, conn = session_.id;
  auto busy = ctx_.background_task ? ctx_.background_task() : nullptr;  // held until the commit is done
  asio::co_spawn(socket_.get_executor(), submit(ctx_.spool, ctx_.resolver, s.get()),
                 [s, about, domain, conn, busy](std::exception_ptr e, std::error_code ec) {
                   if (e || ec)
                     gateway::log_error("dmarc_forensic_failed").field("conn", conn).field("about", about)
                         .field("error", e ? std::string("exception") : ec.message());
                   else if (s->envelope.recipients.empty())
                     gateway::log_info("dmarc_forensic_skipped").field("conn", conn).field("about", about)
                         .field("domain", domain).field("reason", "no ruf= destination authorized (RFC 7489 7.1)");
                   else
                     gateway::log_info("dmarc_forensic_queued").field("conn", conn).field("id", s->envelope.id)
                         .field("about", about).field("domain", domain)
                         .field("rcpts", static_cast<std::uint64_t>(s->envelope.recipients.size()));
                 });
}

}  // namespace sluice::protocol
