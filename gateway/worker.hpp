// worker.hpp — one event-loop thread with its own io_context.
//
// A session lives its whole life on the worker that accepted it (no locks on
// session state). The worker keeps a registry of its live connections so that
// a drain can wake and end them; the registry is touched only on the worker's
// own thread (begin_drain/drain_deadline post themselves there).
//
// Each worker also owns its DNS resolver (c-ares channel on this io_context,
// behind the worker's cache): filters running in a session on this worker
// reach it through resolver(). It is built from the start-up [dns] config.
#pragma once
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <thread>

#include "filters/ares_resolver.hpp"
#include "filters/caching_resolver.hpp"
#include "gateway/config.hpp"
#include "protocol/connection_io.hpp"

namespace sluice::gateway {

class Worker {
 public:
  // Throws std::runtime_error when the DNS channel cannot be made.
  Worker(unsigned index, const DnsConfig& dns);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  boost::asio::io_context& context() { return ctx_; }
  unsigned index() const { return index_; }
  // Worker thread only (c-ares channel and cache are not thread-safe).
  filters::Resolver& resolver() { return dns_; }
  const filters::DnsCache& dns_cache() const { return dns_.cache(); }
  // "ip:port,..." c-ares uses; call before start() (the channel is not thread-safe).
  std::string dns_servers() const { return ares_.servers(); }
  void start();
  void stop_and_join();

  using Registry = std::list<protocol::ConnectionControl>;
  // Worker thread only.
  Registry::iterator add_connection();
  void remove_connection(Registry::iterator it);
  // Sessions and background tasks still running: the drain waits for none.
  std::size_t live_connections() const { return live_.load(std::memory_order_relaxed); }
  // Any thread. Counts as live until the token is destroyed.
  std::shared_ptr<void> background_task();

  // Any thread.
  void begin_drain();
  void drain_deadline();
  // When the worker's loop last ran its heartbeat timer (every
  // kHeartbeatInterval): a loop stuck in a handler stops beating (/healthz).
  std::chrono::steady_clock::time_point last_heartbeat() const;
  static constexpr std::chrono::seconds kHeartbeatInterval{1};

 private:
  void wake_all(bool deadline);
  void schedule_heartbeat();
  unsigned index_;
  // Before ctx_: a background task's token, destroyed with a handler still
  // queued in ctx_, decrements it.
  std::atomic<std::size_t> live_{0};
  boost::asio::io_context ctx_{1};
  boost::asio::steady_timer heartbeat_{ctx_};
  std::atomic<std::chrono::steady_clock::rep> last_heartbeat_{0};
  // After ctx_: destroyed first, while the io_context still exists.
  filters::AresResolver ares_;
  filters::CachingResolver dns_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
  Registry connections_;
  bool draining_ = false;
  bool deadline_passed_ = false;
};

}  // namespace sluice::gateway
