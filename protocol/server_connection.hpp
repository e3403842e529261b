// server_connection.hpp — serves one accepted SMTP connection, start to end.
//
// The only public entry point of the SMTP server: the gateway's listener
// accepts a socket and co_spawns serve_connection() on the worker that owns
// it. Everything the connection needs comes in ConnectionContext; nothing is
// global. See connection.hpp for the pieces. The arguments are taken by
// rvalue reference and must live until the coroutine ends (the co_spawn
// closure that owns them does): no by-value coroutine parameters, for the
// GCC 12 reason in storage/blocking_pool.hpp.
#pragma once
#include <functional>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gateway/config.hpp"
#include "metrics/sluice_metrics.hpp"
#include "protocol/connection_io.hpp"
#include "storage/spool.hpp"
#include "tls/server_context.hpp"

namespace sluice::filters {
class Resolver;
}

namespace sluice::protocol {

struct ConnectionContext {
  gateway::ConfigPtr config;                  // kept alive for the whole session
  const gateway::ListenerConfig* listener;    // points into *config
  storage::Spool* spool;
  ConnectionControl* control;                 // owned by the worker's registry
  std::string connection_id;
  metrics::ListenerMetrics metrics;          // the listener's handles (never null when serving)
  std::shared_ptr<tls::ServerContext> tls;    // the listener's TLS context; nullptr when tls = "off"
  filters::Resolver* resolver = nullptr;      // the worker's DNS (filters); nullptr: no filters
  boost::asio::ip::tcp::endpoint peer;        // who connected, as accept() said
  // Work a session leaves running after it ends (a DMARC report's commit)
  // holds the returned token until done: the drain waits for it as for a
  // session, so nothing outlives the worker it completes on. Empty: none.
  std::function<std::shared_ptr<void>()> background_task;
};

boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket&& socket, ConnectionContext&& ctx);

}  // namespace sluice::protocol
