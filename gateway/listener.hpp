// listener.hpp — one listening socket on one worker, and its accept loop.
//
// Every worker opens its own socket for each configured listener with
// SO_REUSEPORT, so the kernel spreads new connections across workers with no
// hand-off between threads. Accepted sockets get the limits check (421 4.7.0
// before the banner when over) and then a session coroutine on this worker.
// Opening happens on the main thread at start or reload so that a bind
// failure is reported with the listener's name; close() may come from any
// thread.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "gateway/services.hpp"
#include "gateway/worker.hpp"
#include "metrics/sluice_metrics.hpp"

namespace sluice::gateway {

class Listener {
 public:
  // Throws std::runtime_error naming the listener when it cannot listen.
  Listener(Worker& worker, Services& services, const ListenerConfig& config);
  void start();
  void close();
  const ListenerConfig& config() const { return config_; }

 private:
  boost::asio::awaitable<void> accept_loop();
  Worker& worker_;
  Services& services_;
  ListenerConfig config_;
  boost::asio::ip::tcp::acceptor acceptor_;
  metrics::ListenerMetrics metrics_;  // resolved once: the accept loop only bumps them
};

std::string listener_key(const ListenerConfig& l);  // "name@addr:port"

// Throws std::runtime_error naming the listener when another socket already
// listens on its address and port. Call it before opening a listener on a
// port this process does not hold yet: SO_REUSEPORT would otherwise let us
// join a port another process of the same user listens on (a second Sluice
// started by mistake, an old one still running) and silently split its
// connections with it.
void ensure_port_free(const ListenerConfig& config);

}  // namespace sluice::gateway
