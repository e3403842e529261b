#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/log.hpp"
#include "metrics/sluice_metrics.hpp"
#include "protocol/connection.hpp"
#include "filters/filter_chain.hpp"
#include "protocol/proxy_header.hpp"

namespace sluice::protocol {

namespace asio = boost::asio;
using gateway::log_info;
using gateway::log_warn;
using metrics::SessionReject;
using metrics::sluice_metrics;

namespace {
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::chrono::seconds kProxyHeaderTimeout{10};

Endpoint endpoint_of(const asio::ip::tcp::endpoint& ep) {
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  return Endpoint{addr.to_string(), ep.port(), {}};
}
}  // namespace

asio::awaitable<void> serve_connection(asio::ip::tcp::socket&& socket, ConnectionContext&& ctx) {
  Connection c(std::move(socket), std::move(ctx));
  co_await c.run();
}

Connection::Connection(asio::ip::tcp::socket socket, ConnectionContext ctx)
    : socket_(std::move(socket)), ctx_(std::move(ctx)), cfg_(*ctx_.config), server_(cfg_, session_, tx_),
      started_(std::chrono::steady_clock::now()) {
  boost::system::error_code ec;
  session_.peer = endpoint_of(ctx_.peer);  // from accept(): no getpeername() per session
  session_.local = endpoint_of(socket_.local_endpoint(ec));
  session_.client = session_.peer;
  session_.listener = ctx_.listener->name;
  session_.id = ctx_.connection_id;
  if (ctx_.control) ctx_.control->socket = &socket_;
  socket_.non_blocking(true, ec);  // read_available() must never block a worker
  session_.starttls_offered = ctx_.tls && ctx_.listener->tls == gateway::TlsMode::starttls;
}

Connection::~Connection() = default;

// Who is judged (docs/filters.md, "Who is filtered"): the operator's own
// clients may be left alone, by listener, network, authentication or front end.
bool Connection::filters_judge_this_client() const {
  const auto& f = cfg_.filters;
  for (const auto& l : f.skip_listeners)
    if (l == session_.listener) return false;
  if (f.skip_trusted && session_.relay_trusted) return false;
  if (f.skip_authenticated && !session_.login.empty()) return false;
  if (f.skip_xclient && session_.origin == Origin::xclient) return false;
  if (!f.skip_hosts.empty() && f.skip_hosts.match(session_.client.addr).yes()) return false;
  return true;
}

void Connection::filters_follow_session(const std::string& helo_before, std::size_t recipients_before,
                                        Origin origin_before, const std::string& client_before) {
  if (!filters_) return;
  if (session_.origin != origin_before || session_.client.addr != client_before)
    filters_->connect({session_.client.addr, session_.client.name, session_.listener});
  if (!session_.helo.empty() && session_.helo != helo_before) filters_->helo(session_.helo);
  if (tx_.active && tx_.recipients.size() > recipients_before)
    filters_->rcpt(tx_.recipients.back().mailbox.str());
}

// The chain (about 1.4 KiB with its filters) is made when the session's
// first transaction starts, not at connect: most of the sessions an edge
// gateway holds at once are idle or never get past EHLO. What the filters
// are told before MAIL (the client, HELO) is replayed from the session,
// which has kept it.
void Connection::start_filter_chain() {
  filters_ = std::make_unique<filters::FilterChain>(*ctx_.resolver, filters::shared_public_suffix_list(), cfg_.filters,
                                                    cfg_.smtp.hostname);
  filters_->connect({session_.client.addr, session_.client.name, session_.listener});
  if (!session_.helo.empty()) filters_->helo(session_.helo);
}

void Connection::filters_follow_transaction(bool was_active) {
  if (!filters_ && cfg_.filters.enabled && ctx_.resolver && !was_active && tx_.active) start_filter_chain();
  if (!filters_) return;
  if (!was_active && tx_.active) {
    filters::MailFacts facts;
    facts.client_ip = gateway::parse_ip(session_.client.addr);
    facts.helo = session_.helo;
    facts.sender = tx_.null_sender ? std::string{} : tx_.sender.str();
    facts.receiving_host = cfg_.smtp.hostname;
    filters_->start(facts, socket_.get_executor(), filters_judge_this_client());
  } else if (was_active && !tx_.active) {
    filters_->reset();
  }
}

void Connection::queue(const Reply& r) { r.append_to(out_); }

asio::awaitable<bool> Connection::flush() {
  if (out_.empty()) co_return true;
  IoResult r = co_await stream_write_all(out_, cfg_.timeouts.write);
  out_.clear();
  replied_ = true;
  if (r.status != IoStatus::ok) {
    if (end_reason_ == "quit" && quit_sent_ && session_.tls) {
      // Outlook and others reset the connection right after QUIT on TLS,
      // not waiting for our 221: harmless, so no error, only a detail line.
      note_reset_after_quit();
      co_return false;
    }
    end_reason_ = r.status == IoStatus::timeout ? "write timeout" : "lost connection";
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Connection::run() {
  // Whichever ends first cancels the other, and both have ended when this
  // returns (the watchdog uses the socket). The watchdog ends only when
  // cancelled; an exception from the session goes on to the listener.
  auto executor = co_await asio::this_coro::executor;
  auto session = asio::co_spawn(executor, run_session(), asio::deferred);
  auto watchdog = asio::co_spawn(executor, io_deadline_.watch(), asio::deferred);
  auto group = asio::experimental::make_parallel_group(std::move(session), std::move(watchdog));
  auto ended = group.async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  auto [order, session_error, watchdog_error] = co_await std::move(ended);
  (void)order;
  (void)watchdog_error;
  if (session_error) std::rethrow_exception(session_error);
}

asio::awaitable<void> Connection::run_session() {
  metrics::Gauge* open = ctx_.metrics.open;
  if (open) open->inc();
  if (ctx_.listener->proxy_protocol && co_await read_proxy_header() == Flow::stop) {
    if (open) open->dec();
    co_return;
  }
  server_.evaluate_permissions();
  // Implicit TLS (RFC 8314 3.3): the handshake comes first, the banner after
  // it. The early-talker check does not apply: the ClientHello is expected.
  const bool implicit_tls = ctx_.listener->tls == gateway::TlsMode::implicit;
  const Flow first = implicit_tls ? co_await start_tls(true) : check_early_talker();
  if (first == Flow::go_on) {
    queue(server_.greeting());
    log_info("connect")
        .field("conn", session_.id)
        .field("listener", session_.listener)
        .field("H", session_.host_for_log())
        .field("origin", session_.origin == Origin::proxy ? "proxy" : "direct")
        .field("proxy", session_.origin == Origin::proxy ? session_.peer.addr : std::string{});
    co_await command_loop();
  }
  co_await flush();
  if (tls_) {
    tls_->shutdown();
    // Only under the protocol-detail switch: see how the client leaves after
    // QUIT (costs the session up to a second of lingering, no CPU).
    if (quit_sent_ && end_reason_ == "quit" && cfg_.tls.log_protocol_details) {
      const std::string how = co_await tls_->await_peer_close(std::chrono::seconds(1));
      if (how == "reset") note_reset_after_quit();
    }
  }
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (ctx_.control) ctx_.control->socket = nullptr;
  if (open) open->dec();
  log_info("disconnect")
      .field("conn", session_.id)
      .field("H", session_.host_for_log())
      .field("messages", session_.messages)
      .field("reason", end_reason_)
      .field("L", session_.pipelining_mark())
      .field("tls", session_.tls ? session_.tls_version : std::string{})
      .field("tls_error", tls_ ? tls_->protocol_error() : std::string_view{});
}

asio::awaitable<Connection::Flow> Connection::read_proxy_header() {
  // ../shared/specs/proxy-protocol.md: only configured senders may tell us
  // who the client is; anything else, or a bad header, closes the connection.
  auto& m = sluice_metrics();
  if (!ctx_.listener->proxy_trusted.contains(session_.peer.addr)) {
    m.session_rejected(SessionReject::proxy_refused);
    log_warn("proxy_refused").field("conn", session_.id).field("peer", session_.peer.addr).field("reason", "source not trusted");
    co_return Flow::stop;
  }
  for (;;) {
    ProxyParseResult p = parse_proxy_header(in_.peek());
    if (p.status == ProxyParseStatus::done) {
      in_.consume(p.consumed);
      if (!p.header.local) {
        session_.client = Endpoint{p.header.src_addr, p.header.src_port, {}};
        session_.local = Endpoint{p.header.dst_addr, p.header.dst_port, {}};
        session_.origin = Origin::proxy;
        m.proxy_sessions.inc();
      }
      co_return Flow::go_on;
    }
    if (p.status == ProxyParseStatus::error) {
      m.session_rejected(SessionReject::proxy_refused);
      log_warn("proxy_refused").field("conn", session_.id).field("peer", session_.peer.addr).field("reason", p.error);
      co_return Flow::stop;
    }
    // Read only what can still belong to the header: never more than its maximum.
    auto buf = in_.prepare(512);
    IoResult r = co_await read_some(socket_, buf, io_deadline_, kProxyHeaderTimeout);
    in_.commit(r.bytes);
    if (r.status != IoStatus::ok || r.bytes == 0) {
      m.session_rejected(SessionReject::proxy_refused);
      log_warn("proxy_refused").field("conn", session_.id).field("peer", session_.peer.addr)
          .field("reason", r.status == IoStatus::timeout ? "timeout" : "closed before header");
      co_return Flow::stop;
    }
  }
}

Connection::Flow Connection::check_early_talker() {
  // Early pipelining (../shared/specs/pipeconnect.md): input already waiting
  // before the banner is a synchronization error, unless this host may
  // pipeline early, in which case banner and replies leave together.
  boost::system::error_code ec;
  const std::size_t waiting = in_.size() + socket_.available(ec);
  if (waiting == 0) return Flow::go_on;
  if (session_.pipeconnect_allowed) {
    session_.pipeconnect_used = true;
    sluice_metrics().pipeconnect_used.inc();
    return Flow::go_on;
  }
  sluice_metrics().session_rejected(SessionReject::sync_error);
  Reply r(554, "5.5.0", "SMTP synchronization error");
  queue(r);
  end_reason_ = "synchronization error";
  log_warn("sync_error").field("conn", session_.id).field("H", session_.host_for_log()).field("reason", "input before banner");
  return Flow::stop;
}

std::chrono::seconds Connection::command_timeout() const {
  return session_.greeted ? cfg_.timeouts.command : cfg_.timeouts.greeting;
}

bool Connection::drain_now() const {
  if (!ctx_.control || !ctx_.control->draining) return false;
  return !tx_.active || ctx_.control->drain_deadline_passed;
}

asio::awaitable<Connection::Flow> Connection::fill(std::chrono::seconds timeout, bool in_data) {
  for (;;) {
    if (drain_now()) {
      queue(Reply(421, "4.3.2", cfg_.smtp.hostname + " Service shutting down, closing connection"));
      end_reason_ = "shutdown";
      co_return Flow::stop;
    }
    const auto session_left = started_ + cfg_.timeouts.max_session - std::chrono::steady_clock::now();
    if (session_left <= std::chrono::steady_clock::duration::zero()) {
      queue(Reply(421, "4.4.2", cfg_.smtp.hostname + " Session too long, closing connection"));
      end_reason_ = "max session time";
      co_return Flow::stop;
    }
    // Commands: never hold more than max_pipelined_bytes of unread input
    // (what is buffered here is at most one incomplete line). Data: 16 KiB reads.
    std::size_t room = kReadChunk;
    if (!in_data) {
      const std::size_t cap = cfg_.limits.max_pipelined_bytes;
      room = std::min(room, cap > in_.size() ? cap - in_.size() : std::size_t{1});
    }
    // Read what is there without waiting; only when nothing is, give the
    // buffer back (an idle session holds none) and wait for readability.
    // Right after a reply, in lock-step SMTP, nothing can be there yet: skip
    // the read that would only say EAGAIN.
    IoResult r{IoStatus::would_block, 0};
    if (!replied_ || !in_.empty()) {
      auto buf = in_.prepare(room);
      r = stream_read_available(buf);
      in_.commit(r.bytes);
    }
    replied_ = false;
    if (r.status == IoStatus::ok && r.bytes > 0) {
      sluice_metrics().bytes_received.inc(r.bytes);
      co_return Flow::go_on;
    }
    if (r.status == IoStatus::would_block) {
      if (in_.empty()) in_.release();
      // max_session is a hard cap: no wait runs past it, so an idle client
      // is cut then, not a whole command timeout later.
      const std::chrono::steady_clock::duration wait = std::min<std::chrono::steady_clock::duration>(timeout, session_left);
      // Wait by reading into the small fixed buffer: an idle session holds
      // only that, and a read (unlike async_wait) keeps Asio's epoll
      // registration as it is — no epoll_ctl per command.
      r = co_await stream_read_some(idle_buffer_, wait);
      if (r.status == IoStatus::ok && r.bytes > 0) {
        auto dst = in_.prepare(r.bytes);
        std::copy_n(idle_buffer_.data(), r.bytes, dst.data());
        in_.commit(r.bytes);
        sluice_metrics().bytes_received.inc(r.bytes);
        co_return Flow::go_on;
      }
      if (r.status == IoStatus::timeout && wait < timeout) continue;  // the session's time is up: the loop top says so
    }
    if (r.status == IoStatus::interrupted) continue;  // the drain woke us: the loop top decides
    if (r.status == IoStatus::timeout) {
      queue(server_.on_timeout().reply);
      end_reason_ = in_data ? "timeout in DATA" : "timeout";
      co_return Flow::stop;
    }
    // "lost connection after DATA" is the line operators look for (Postfix).
    end_reason_ = in_data ? "lost connection in DATA" : (tx_.active ? "lost connection in transaction" : "lost connection");
    out_.clear();
    co_return Flow::stop;
  }
}

asio::awaitable<void> Connection::command_loop() {
  // Early pipelining: the client's commands were already waiting before the
  // banner, so read them before the first flush; the banner and their replies
  // then leave in one write, as with Exim (../shared/specs/pipeconnect.md 2).
  // The hold lasts only until there is a reply to send: commands already read
  // (behind a PROXY header, in the same segment) are answered at once, or
  // client and server would each wait for the other.
  bool hold_banner = session_.pipeconnect_used;
  for (;;) {
    for (;;) {
      // Draining: the transaction in progress may finish, but nothing new
      // starts, not even a MAIL already pipelined behind its final dot
      // (RFC 2920 3.1); fill() says 421 4.3.2 after the replies so far.
      if (drain_now()) break;
      LineResult line = in_.next_line(cfg_.limits.command_line_max);
      if (line.status == LineStatus::need_more) break;
      hold_banner = false;
      const bool was_active = tx_.active;
      const std::size_t recipients_before = tx_.recipients.size();
      const std::string helo_before = session_.helo, client_before = session_.client.addr;
      const Origin origin_before = session_.origin;
      Step step = line.status == LineStatus::overlong ? server_.on_overlong_line() : server_.on_line(line.line);
      filters_follow_transaction(was_active);
      apply_policy_after_command(step, was_active, recipients_before);
      filters_follow_session(helo_before, recipients_before, origin_before, client_before);
      if (!step.reply.empty())
        sluice_metrics().reply(line.status == LineStatus::overlong ? metrics::SmtpCommand::other
                                                                   : metrics::command_of(line.line),
                               step.reply.code);
      const Flow flow = co_await handle(step);
      if (flow == Flow::stop) co_return;
      if (!tx_.bdat_started) writer_.reset();  // RSET or a new MAIL dropped a BDAT message
    }
    if (!hold_banner) {
      const bool flushed = co_await flush();
      if (!flushed) co_return;
    }
    hold_banner = false;
    const Flow flow = co_await fill(command_timeout(), false);
    if (flow == Flow::stop) co_return;
  }
}

void Connection::log_reject(const Reply& r, std::string_view what) {
  log_info("reject")
      .field("conn", session_.id)
      .field("H", session_.host_for_log())
      .field("cmd", what)
      .field("code", r.code)
      .field("status", r.enhanced)
      .field("text", r.text());
}

asio::awaitable<Connection::Flow> Connection::handle(const Step& step) {
  if (step.next == Step::Next::data) {
    queue(step.reply);
    const bool flushed = co_await flush();
    if (!flushed) co_return Flow::stop;
    const Flow flow = co_await receive_data();
    co_return flow;
  }
  if (step.next == Step::Next::bdat) {
    const Flow flow = co_await receive_bdat(step);
    co_return flow;
  }
  if (step.next == Step::Next::starttls) {
    const Flow flow = co_await handle_starttls(step);
    co_return flow;
  }
  if (step.reply.code >= 400) log_reject(step.reply, "command");
  queue(step.reply);
  if (step.next == Step::Next::close) {
    end_reason_ = step.reply.code == 221 ? "quit" : "closed by server";
    quit_sent_ = step.reply.code == 221;
    co_return Flow::stop;
  }
  co_return Flow::go_on;
}

}  // namespace sluice::protocol
