#include "gateway/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>

#include "gateway/log.hpp"
#include "metrics/sluice_metrics.hpp"
#include "protocol/reply.hpp"
#include "protocol/server_connection.hpp"

namespace sluice::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string listener_key(const ListenerConfig& l) {
  return l.name + "@" + l.address + ":" + std::to_string(l.port);
}

namespace {

tcp::endpoint endpoint_of(const ListenerConfig& l) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(l.address, ec);
  if (ec) throw std::runtime_error("listener " + l.name + ": bad address " + l.address);
  return tcp::endpoint(addr, l.port);
}

std::runtime_error cannot_listen(const ListenerConfig& l, const boost::system::error_code& ec) {
  return std::runtime_error("listener " + l.name + " on " + l.address + ":" + std::to_string(l.port) + ": " +
                            ec.message());
}

}  // namespace

void ensure_port_free(const ListenerConfig& config) {
  // A plain bind, without SO_REUSEPORT, conflicts with any socket listening
  // there, whoever opened it. SO_REUSEADDR only lets it past TIME_WAIT
  // leftovers, as for the real sockets.
  asio::io_context io;
  tcp::acceptor probe(io);
  const tcp::endpoint ep = endpoint_of(config);
  boost::system::error_code ec;
  probe.open(ep.protocol(), ec);
  if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) probe.bind(ep, ec);
  if (ec) throw cannot_listen(config, ec);
}

Listener::Listener(Worker& worker, Services& services, const ListenerConfig& config)
    : worker_(worker), services_(services), config_(config), acceptor_(worker.context()),
      metrics_(metrics::sluice_metrics().listener(config.name)) {
  boost::system::error_code ec;
  const tcp::endpoint ep = endpoint_of(config_);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) {
    int one = 1;
    if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
      ec.assign(errno, boost::system::system_category());
  }
  // TCP_NODELAY, set once here: Linux copies it to every accepted socket.
  // Without it, a reply written right behind another unacknowledged write
  // (the banner behind the TLS server's last handshake flight, or behind a
  // TLS 1.3 NewSessionTicket) waits for the client's delayed ACK: 40 ms.
  // Replies are whole lines or pipelined batches, never byte-sized writes,
  // so Nagle saves no packets here. Exim sets it by default too.
  if (!ec) acceptor_.set_option(tcp::no_delay(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(4096, ec);
  if (ec) throw cannot_listen(config_, ec);
}

void Listener::start() {
  asio::co_spawn(worker_.context(), accept_loop(), [name = config_.name](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log_error("listener_failed").field("listener", name).field("what", ex.what());
    }
  });
}

void Listener::close() {
  asio::post(worker_.context(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

namespace {

// Over a limit: one reply, then close, without reading anything.
asio::awaitable<void> refuse_connection(tcp::socket sock, std::string reply) {
  asio::steady_timer timer(sock.get_executor(), std::chrono::seconds(10));
  timer.async_wait([&sock](boost::system::error_code ec) {
    if (!ec) sock.close(ec);
  });
  co_await asio::async_write(sock, asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
  timer.cancel();
  boost::system::error_code ec;
  sock.shutdown(tcp::socket::shutdown_both, ec);
  sock.close(ec);
}

void log_exception(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log_error(what).field("what", ex.what());
  }
}

}  // namespace

asio::awaitable<void> Listener::accept_loop() {
  for (;;) {
    // accept() fills in the peer's address: no getpeername() per connection.
    asio::ip::tcp::endpoint peer;
    auto [ec, sock] = co_await acceptor_.async_accept(peer, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      // EMFILE and friends: say so, breathe, go on; never spin.
      log_warn("accept_failed").field("listener", config_.name).field("error", ec.message());
      asio::steady_timer t(worker_.context(), std::chrono::milliseconds(100));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    metrics_.accepted->inc();
    auto cfg = services_.config.load();
    auto paddr = peer.address();
    if (paddr.is_v6() && paddr.to_v6().is_v4_mapped())
      paddr = asio::ip::make_address_v4(asio::ip::v4_mapped, paddr.to_v6());
    const std::string ip = paddr.to_string();

    ConnectionLimits::Ticket ticket;
    auto verdict = services_.limits.admit(ip, cfg->limits.max_connections, cfg->limits.max_connections_per_ip, ticket);
    if (verdict != ConnectionLimits::Verdict::ok) {
      const bool total = verdict == ConnectionLimits::Verdict::too_many_total;
      metrics::sluice_metrics().session_rejected(total ? metrics::SessionReject::connection_limit
                                                       : metrics::SessionReject::per_ip_limit);
      log_warn("connection_refused").field("listener", config_.name).field("ip", ip)
          .field("reason", total ? "max_connections" : "max_connections_per_ip");
      protocol::Reply r(421, "4.7.0", cfg->smtp.hostname + (total ? " Too many connections, try again later"
                                                                   : " Too many connections from your address"));
      asio::co_spawn(worker_.context(), refuse_connection(std::move(sock), r.to_wire()),
                     [](std::exception_ptr e) { log_exception(e, "refuse_failed"); });
      continue;
    }

    // The session uses the listener settings of the config it starts with.
    const ListenerConfig* lc = &config_;
    for (const auto& l : cfg->listeners)
      if (l.name == config_.name) lc = &l;
    if (lc == &config_) {
      // Listener being removed by a reload: keep our own copy alive with the session.
      auto copy = std::make_shared<Config>(*cfg);
      copy->listeners.push_back(config_);
      lc = &copy->listeners.back();
      cfg = copy;
    }
    auto reg = worker_.add_connection();
    protocol::ConnectionContext ctx{cfg, lc, services_.spool, &*reg,
                                    std::to_string(services_.next_connection_id.fetch_add(1)), metrics_,
                                    lc->tls != TlsMode::off && services_.tls ? services_.tls->get(lc->name) : nullptr,
                                    &worker_.resolver(), peer, [w = &worker_] { return w->background_task(); }};
    asio::co_spawn(
        worker_.context(),
        [s = std::move(sock), ctx = std::move(ctx), t = std::move(ticket)]() mutable -> asio::awaitable<void> {
          co_await protocol::serve_connection(std::move(s), std::move(ctx));
        },
        [this, reg](std::exception_ptr e) {
          log_exception(e, "session_exception");
          worker_.remove_connection(reg);
        });
  }
}

}  // namespace sluice::gateway
