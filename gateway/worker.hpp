// worker.hpp — one event-loop thread with its own io_context.
//
// A session lives its whole life on the worker that accepted it (no locks on
// session state). The worker keeps a registry of its live connections so that
// a drain can wake and end them; the registry is touched only on the worker's
// own thread (begin_drain/drain_deadline post themselves there).
#pragma once
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <list>
#include <optional>
#include <thread>

#include "protocol/connection_io.hpp"

namespace sluice::gateway {

class Worker {
 public:
  explicit Worker(unsigned index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  boost::asio::io_context& context() { return ctx_; }
  unsigned index() const { return index_; }
  void start();
  void stop_and_join();

  using Registry = std::list<protocol::ConnectionControl>;
  // Worker thread only.
  Registry::iterator add_connection();
  void remove_connection(Registry::iterator it);
  std::size_t live_connections() const { return live_.load(std::memory_order_relaxed); }

  // Any thread.
  void begin_drain();
  void drain_deadline();

 private:
  void wake_all(bool deadline);
  unsigned index_;
  boost::asio::io_context ctx_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
  Registry connections_;
  bool draining_ = false;
  bool deadline_passed_ = false;
  std::atomic<std::size_t> live_{0};
};

}  // namespace sluice::gateway
