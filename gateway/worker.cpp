#include "gateway/worker.hpp"

#include <boost/asio/post.hpp>

#include "gateway/log.hpp"
#include "tls/thread_caches.hpp"

namespace sluice::gateway {

namespace asio = boost::asio;

Worker::Worker(unsigned index, const DnsConfig& dns)
    : index_(index), ares_(ctx_, dns), dns_(ares_, dns.cache_entries) {}

Worker::~Worker() { stop_and_join(); }

void Worker::start() {
  guard_.emplace(ctx_.get_executor());
  last_heartbeat_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  schedule_heartbeat();
  thread_ = std::thread([this] {
    for (;;) {
      try {
        ctx_.run();
        tls::release_thread_caches();
        return;
      } catch (const std::exception& e) {
        // A bug escaped a handler: log it and keep the other sessions alive.
        log_error("worker_exception").field("worker", index_).field("what", e.what());
      }
    }
  });
}

void Worker::schedule_heartbeat() {
  heartbeat_.expires_after(kHeartbeatInterval);
  heartbeat_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    last_heartbeat_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    schedule_heartbeat();
  });
}

std::chrono::steady_clock::time_point Worker::last_heartbeat() const {
  return std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(last_heartbeat_.load(std::memory_order_relaxed)));
}

void Worker::stop_and_join() {
  if (!thread_.joinable()) return;
  guard_.reset();
  ctx_.stop();
  thread_.join();
}

Worker::Registry::iterator Worker::add_connection() {
  connections_.emplace_back();
  auto it = std::prev(connections_.end());
  it->draining = draining_;
  it->drain_deadline_passed = deadline_passed_;
  live_.fetch_add(1, std::memory_order_relaxed);
  return it;
}

std::shared_ptr<void> Worker::background_task() {
  live_.fetch_add(1, std::memory_order_relaxed);
  return std::shared_ptr<void>(this, [this](void*) { live_.fetch_sub(1, std::memory_order_relaxed); });
}

void Worker::remove_connection(Registry::iterator it) {
  connections_.erase(it);
  live_.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::begin_drain() {
  asio::post(ctx_, [this] { wake_all(false); });
}

void Worker::drain_deadline() {
  asio::post(ctx_, [this] { wake_all(true); });
}

void Worker::wake_all(bool deadline) {
  draining_ = true;
  if (deadline) deadline_passed_ = true;
  for (auto& c : connections_) {
    c.draining = true;
    if (deadline) c.drain_deadline_passed = true;
    // Wake a pending read so the connection looks at the flags now.
    boost::system::error_code ec;
    if (c.socket) c.socket->cancel(ec);
  }
}

}  // namespace sluice::gateway
