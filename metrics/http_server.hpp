// http_server.hpp — the metrics and health HTTP endpoints (Boost.Beast), on
// a thread and io_context of their own, so a slow or hostile scraper can
// never delay an SMTP worker.
//
//   GET /metrics  200, Prometheus text format 0.0.4 (metrics/exposition.hpp)
//   GET /healthz  200 "ok" while the process is alive and responsive, else 503
//   GET /readyz   200 "ready" when it should be sent mail, else 503 "<reason>"
//   other paths 404, other methods 405 (HEAD is served like GET, without body).
//
// What "healthy" and "ready" mean is decided by the caller (the gateway
// passes its checks in HttpEndpoints); this file only serves them.
// Limits: requests with a body are refused (scrapes have none), headers at
// most HttpLimits::header_bytes, every read and write has a deadline, at most
// HttpLimits::max_connections at once (more are closed at accept), keep-alive
// is honoured up to max_requests_per_connection.
// Start-up: the constructor binds and listens, and throws std::runtime_error
// naming the address when it cannot.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace sluice::metrics {

struct HealthVerdict {
  bool ok = true;
  std::string reason;  // short, one line; the 503 body
};

struct HttpEndpoints {
  std::function<std::string()> metrics;    // the /metrics body
  std::function<HealthVerdict()> healthz;
  std::function<HealthVerdict()> readyz;
};

struct HttpLimits {
  std::size_t max_connections = 16;
  std::size_t header_bytes = 8 * 1024;
  std::chrono::seconds io_timeout{10};
  unsigned max_requests_per_connection = 100;
};

class HttpServer {
 public:
  HttpServer(const std::string& address, std::uint16_t port, HttpEndpoints endpoints, HttpLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start();  // starts the thread
  void stop();   // closes everything and joins; idempotent
  std::uint16_t port() const { return port_; }
  // The server's own io_context, for timers that belong with it.
  boost::asio::io_context& context() { return ctx_; }

 private:
  class Session;
  boost::asio::awaitable<void> accept_loop();
  HttpEndpoints endpoints_;
  HttpLimits limits_;
  boost::asio::io_context ctx_{1};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::size_t sessions_ = 0;  // metrics thread only
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
};

}  // namespace sluice::metrics
