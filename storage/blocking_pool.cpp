#include "storage/blocking_pool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sluice::storage {

namespace asio = boost::asio;

struct BlockingPool::Impl {
  explicit Impl(unsigned threads) : pool(threads) {}
  asio::thread_pool pool;
};

BlockingPool::BlockingPool(unsigned threads) : impl_(std::make_unique<Impl>(threads ? threads : 1)) {}

BlockingPool::~BlockingPool() { impl_->pool.join(); }

asio::awaitable<std::error_code> BlockingPool::run(std::function<std::error_code()> job) {
  // co_spawn onto the pool and await it: the result is delivered back on the
  // caller's executor, so the caller's coroutine never runs on a pool thread.
  std::error_code ec = co_await asio::co_spawn(
      impl_->pool.get_executor(),
      [job = std::move(job)]() -> asio::awaitable<std::error_code> { co_return job(); },
      asio::use_awaitable);
  co_return ec;
}

void BlockingPool::post(std::function<void()> job) { asio::post(impl_->pool, std::move(job)); }

}  // namespace sluice::storage
