#include "storage/blocking_pool.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
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

asio::awaitable<std::error_code> BlockingPool::run(std::function<std::error_code()>&& job) {
  // A plain asynchronous operation, not a coroutine on the pool: the job runs
  // on a pool thread, and the completion is posted back to the caller's
  // executor (kept alive by a work guard), so the awaiting coroutine never
  // resumes on a pool thread. (An earlier version co_spawned a lambda onto
  // the pool; GCC 12 destroyed its captured std::function twice — ASan saw
  // it — so no coroutine here.)
  auto initiation = [this](auto handler, std::function<std::error_code()> work) {
    auto home = asio::get_associated_executor(handler);
    auto guard = asio::make_work_guard(home);
    asio::post(impl_->pool, [work = std::move(work), handler = std::move(handler), guard = std::move(guard)]() mutable {
      std::error_code ec = work();
      auto ex = guard.get_executor();
      asio::post(ex, [handler = std::move(handler), ec, guard = std::move(guard)]() mutable {
        std::move(handler)(ec);
      });
    });
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::error_code)>(
      std::move(initiation), asio::use_awaitable, std::move(job));
}

void BlockingPool::post(std::function<void()> job) { asio::post(impl_->pool, std::move(job)); }

}  // namespace sluice::storage
