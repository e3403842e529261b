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
      co_await append(decoded);
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
      if (keep) co_await append(avail.substr(0, take));
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
  if (verdict.empty()) {
    const storage::Envelope envelope = envelope_of(session_, tx_, message_bytes_);
    std::error_code ec = co_await writer_->commit(envelope);
    if (ec) {
      const bool no_space = ec == std::errc::no_space_on_device;
      verdict = server_.commit_failed_reply(no_space);
      m.message(no_space ? MessageOutcome::deferred_no_space : MessageOutcome::deferred_spool_error);
      gateway::log_error("spool_commit_failed").field("conn", session_.id).field("id", tx_.id).field("error", ec.message());
    }
  } else {
    m.message(rejection_outcome(facts, cfg_));
  }
  if (verdict.empty()) {
    verdict = server_.accepted_reply();
    ++session_.messages;
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
  server_.end_transaction();
  drop_message();
  co_return verdict;
}

}  // namespace sluice::protocol
