// DATA and BDAT: message bytes from the client into the spool.
//
// Memory stays bounded whatever the client sends: input is decoded as it
// arrives (protocol/data_decoder.hpp: dot-unstuffing, the CRLF.CRLF-only end
// rule against SMTP smuggling) and handed to the spool writer in pieces; the
// writer suspends us while it writes, so a fast client waits in TCP, not in
// our memory. The size limit is enforced while streaming (RFC 1870): past it
// we keep reading to stay in sync but store nothing more.
#include <ctime>

#include "gateway/log.hpp"
#include "metrics/sluice_metrics.hpp"
#include "protocol/connection.hpp"
#include "protocol/data_decoder.hpp"
#include "filters/dmarc_history.hpp"
#include "filters/filter_chain.hpp"

namespace sluice::protocol {

namespace asio = boost::asio;
using metrics::MessageOutcome;

namespace {
constexpr std::size_t kAppendChunk = 64 * 1024;

storage::Envelope envelope_of(const Session& s, const Transaction& tx, std::uint64_t size) {
  storage::Envelope e;
  e.id = tx.id;
  e.sender = tx.null_sender ? std::string{} : tx.sender.str();
  for (const auto& r : tx.recipients)
    e.recipients.push_back({r.mailbox.str(), r.params.notify,
                            r.params.orcpt_type.empty() ? std::string{} : r.params.orcpt_type + ";" + r.params.orcpt_addr});
  e.received_at = std::time(nullptr);
  e.size = size;
  switch (tx.params.body) {
    case MailParams::Body::sevenbit: e.body_type = "7BIT"; break;
    case MailParams::Body::eightbitmime: e.body_type = "8BITMIME"; break;
    case MailParams::Body::binarymime: e.body_type = "BINARYMIME"; break;
    case MailParams::Body::none: break;
  }
  e.smtputf8 = tx.params.smtputf8;
  e.ret = tx.params.ret == MailParams::Ret::full ? "FULL" : tx.params.ret == MailParams::Ret::hdrs ? "HDRS" : "";
  e.envid = tx.params.envid;
  e.requiretls = tx.params.requiretls;
  e.helo = s.helo;
  e.protocol = s.protocol_name(tx.params.smtputf8);
  e.client_addr = s.client.addr;
  e.client_port = s.client.port;
  e.client_name = s.client.name;
  if (s.origin != Origin::direct) e.proxy_addr = s.peer.addr;
  e.origin = s.origin == Origin::proxy ? "proxy" : s.origin == Origin::xclient ? "xclient" : "";
  e.login = s.login;
  return e;
}
// The same order as SmtpServer::check_message, which made the reply.
MessageOutcome rejection_outcome(const MessageFacts& f, const gateway::Config& cfg) {
  if (f.size_exceeded) return MessageOutcome::rejected_size;
  if (f.bare_line_ending && cfg.smtp.bare_line_ending == gateway::BareLineEndingPolicy::reject)
    return MessageOutcome::rejected_bare_line_ending;
  if (f.overlong_line) return MessageOutcome::rejected_overlong_line;
  return MessageOutcome::rejected_other;
}
}  // namespace

// One line per judged message: what each filter said (Exim logs the same
// words on its <= line); the Authentication-Results header carries the detail.
void Connection::log_filter_results() const {
  const filters::FilterResults& r = filters_->results();
  std::string dkim;
  for (const auto& d : r.dkim) {
    if (!dkim.empty()) dkim += ',';
    dkim += std::string(filters::to_string(d.status)) + (d.domain.empty() ? "" : ":" + d.domain);
  }
  std::string failed;
  for (const auto& f : r.failed) failed += (failed.empty() ? "" : ",") + f;
  gateway::log_info("filters")
      .field("conn", session_.id)
      .field("id", tx_.id)
      .field("spf", r.spf ? std::string(filters::to_string(r.spf->verdict)) : std::string())
      .field("dkim", r.dkim_ran ? (dkim.empty() ? std::string("none") : dkim) : std::string())
      .field("dmarc", r.dmarc ? std::string(filters::to_string(r.dmarc->status)) : std::string())
      .field("dmarc_domain", r.dmarc ? r.dmarc->used_domain : std::string())
      .field("from_domain", r.from.domain)
      .field("removed_ar", static_cast<std::uint64_t>(filters_->removed_authentication_results()))
      .field("failed", failed);
}

void Connection::drop_message() {
  writer_.reset();
  message_bytes_ = 0;
  message_too_big_ = false;
}

asio::awaitable<Connection::Flow> Connection::append(std::string_view bytes) {
  message_bytes_ += bytes.size();
  if (message_bytes_ > cfg_.limits.max_message_size) message_too_big_ = true;
  if (message_too_big_ || !writer_) co_return Flow::go_on;
  // Errors are remembered by the writer and reported at commit.
  co_await writer_->append(bytes);
  co_return Flow::go_on;
}

asio::awaitable<Connection::Flow> Connection::receive_data() {
  drop_message();
  writer_ = ctx_.spool->begin(tx_.id);
  const std::string received = server_.received_header(std::time(nullptr));
  co_await writer_->append(received);

  DataDecoder decoder(cfg_.smtp.bare_line_ending == gateway::BareLineEndingPolicy::reject ? BareLineEnding::reject
                                                                                          : BareLineEnding::normalize,
                      cfg_.limits.text_line_max);
  std::string decoded;
  bool first_read = true;
  for (;;) {
    DataDecoder::Step st = decoder.feed(in_.peek(), decoded);
    in_.consume(st.consumed);
    if (decoded.size() >= kAppendChunk || st.finished) {
      if (filters_) {
        // The chain sees the client's bytes; the spool gets what it passes
        // on (forged Authentication-Results removed).
        filtered_.clear();
        filters_->data(decoded, filtered_);
        if (st.finished) filters_->data_end(filtered_);
        co_await append(filtered_);
      } else {
        co_await append(decoded);
      }
      decoded.clear();
    }
    if (st.finished) break;
    auto timeout = first_read ? cfg_.timeouts.data_init : cfg_.timeouts.data_block;
    first_read = false;
    const Flow flow = co_await fill(timeout, true);
    if (flow == Flow::stop) {
      drop_message();
      co_return Flow::stop;
    }
  }
  MessageFacts facts;
  facts.size = message_bytes_;
  facts.size_exceeded = message_too_big_;
  facts.bare_line_ending = decoder.saw_bare_cr() || decoder.saw_bare_lf();
  facts.overlong_line = decoder.saw_overlong_line();
  facts.nul = decoder.saw_nul();
  message_bytes_ += received.size();
  Reply r = co_await finish_message(facts);
  queue(r);
  co_return Flow::go_on;
}

asio::awaitable<Connection::Flow> Connection::receive_bdat(const Step& step) {
  // RFC 3030 2: exactly chunk_size octets follow the command line; they are
  // read even when the command was refused, so the dialogue stays in sync.
  const bool keep = !step.discard_chunk;
  if (keep && !writer_) {
    drop_message();
    writer_ = ctx_.spool->begin(tx_.id);
    const std::string received = server_.received_header(std::time(nullptr));
    co_await writer_->append(received);
    message_bytes_ = 0;  // the limit counts the client's bytes
    bdat_header_bytes_ = received.size();
  }
  std::uint64_t left = step.chunk_size;
  for (;;) {
    std::string_view avail = in_.peek();
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left, avail.size()));
    if (take > 0) {
      if (keep && filters_) {
        filtered_.clear();
        filters_->data(avail.substr(0, take), filtered_);
        co_await append(filtered_);
      } else if (keep) {
        co_await append(avail.substr(0, take));
      }
      in_.consume(take);
      left -= take;
    }
    if (left == 0) break;
    const Flow flow = co_await fill(cfg_.timeouts.data_block, true);
    if (flow == Flow::stop) {
      drop_message();
      co_return Flow::stop;
    }
  }
  if (!keep) {
    log_reject(step.reply, "BDAT");
    queue(step.reply);
    co_return Flow::go_on;
  }
  if (message_too_big_) {
    // RFC 3030 2: the server may refuse a chunk; the transaction is over.
    MessageFacts facts;
    facts.size_exceeded = true;
    facts.bdat = true;
    Reply r = server_.check_message(facts);
    metrics::sluice_metrics().message(MessageOutcome::rejected_size);
    log_reject(r, "BDAT");
    queue(r);
    tx_.bdat_failed = true;
    writer_.reset();
    co_return Flow::go_on;
  }
  if (!step.last_chunk) {
    queue(server_.chunk_reply(step.chunk_size));
    co_return Flow::go_on;
  }
  if (filters_) {
    filtered_.clear();
    filters_->data_end(filtered_);
    if (!filtered_.empty()) co_await append(filtered_);
  }
  MessageFacts facts;
  facts.size = message_bytes_;
  facts.bdat = true;
  message_bytes_ += bdat_header_bytes_;
  const Reply verdict = co_await finish_message(facts);
  queue(verdict);
  co_return Flow::go_on;
}

asio::awaitable<Reply> Connection::finish_message(const MessageFacts& facts) {
  auto& m = metrics::sluice_metrics();
  Reply verdict = server_.check_message(facts);
  std::string added_headers;
  bool counted = false;  // the outcome metric was already counted (filter or policy)
  if (verdict.empty() && filters_) {
    filters::ChainOutcome outcome = co_await filters_->end_of_data();
    if (outcome.defer) {
      verdict = Reply(451, "4.4.3", "Temporary failure checking the message (" + outcome.defer_reason +
                                        "), please try again later");
      m.message(MessageOutcome::deferred_filter);
      counted = true;
    } else {
      added_headers = std::move(outcome.added_headers);
    }
    log_filter_results();
  }
  std::string quarantine;
  if (verdict.empty()) {
    verdict = apply_policy_at_data(added_headers, quarantine);
    if (!verdict.empty()) {
      m.message(verdict.code >= 500 ? MessageOutcome::rejected_policy : MessageOutcome::deferred_policy);
      counted = true;
    }
  }
  if (verdict.empty()) {
    storage::Envelope envelope = envelope_of(session_, tx_, message_bytes_);
    envelope.added_headers = std::move(added_headers);
    envelope.quarantine_directory = quarantine;  // still read below (history, report)
    std::error_code ec = co_await writer_->commit(envelope);
    if (ec) {
      const bool no_space = ec == std::errc::no_space_on_device;
      verdict = server_.commit_failed_reply(no_space);
      m.message(no_space ? MessageOutcome::deferred_no_space : MessageOutcome::deferred_spool_error);
      gateway::log_error("spool_commit_failed").field("conn", session_.id).field("id", tx_.id).field("error", ec.message());
    }
  } else if (!counted) {
    m.message(rejection_outcome(facts, cfg_));
  }
  if (verdict.empty()) {
    verdict = server_.accepted_reply();
    ++session_.messages;
    session_.junk_commands = 0;  // limits.max_junk_commands counts between messages
    m.message(MessageOutcome::accepted);
    gateway::log_info("accepted")
        .field("id", tx_.id)
        .field("conn", session_.id)
        .field("H", session_.host_for_log())
        .field("P", session_.protocol_name(tx_.params.smtputf8))
        .field("S", message_bytes_)
        .field("L", session_.pipelining_mark())
        .field("from", tx_.null_sender ? std::string("<>") : "<" + tx_.sender.str() + ">")
        .field("rcpts", static_cast<std::uint64_t>(tx_.recipients.size()))
        .field("origin", session_.origin == Origin::direct ? "" : session_.origin == Origin::proxy ? "proxy" : "xclient")
        .field("proxy", session_.origin == Origin::direct ? std::string{} : session_.peer.addr);
  } else {
    log_reject(verdict, facts.bdat ? "BDAT" : "DATA");
  }
  // After the verdict is final (committed, or refused): the DMARC history
  // record and, when asked for, a failure report.
  if (filters_ && filters::dmarc_history() && (verdict.code == 250 || verdict.code >= 500)) {
    filters::DmarcHistoryFacts h;
    h.job = tx_.id;
    h.reporter = cfg_.smtp.hostname;
    h.received = std::time(nullptr);
    h.client_ip = session_.client.addr;
    const std::string sender = tx_.null_sender ? std::string() : tx_.sender.str();
    h.mail_from_domain = sender.substr(sender.rfind('@') + 1);
    h.action = verdict.code >= 500 ? filters::DmarcHistoryFacts::Action::reject
               : !quarantine.empty() ? filters::DmarcHistoryFacts::Action::quarantine
                                     : filters::DmarcHistoryFacts::Action::accept;
    filters::dmarc_history()->append(filters::dmarc_history_record(filters_->results(), h));
  }
  if (filters_ && (verdict.code == 250 || verdict.code >= 500))
    send_forensic_report(verdict.code >= 500 ? "reject" : !quarantine.empty() ? "spam" : "delivered");
  server_.end_transaction();
  if (filters_) filters_->reset();
  drop_message();
  co_return verdict;
}

}  // namespace sluice::protocol
