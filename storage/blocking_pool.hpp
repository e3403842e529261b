// blocking_pool.hpp — a few threads for work that blocks (write, fsync,
// rename), so no event-loop thread ever waits on the disk.
//
//   std::function<std::error_code()> job = [&] { return write_all(fd, buf); };
//   std::error_code ec = co_await pool.run(std::move(job));
//
// The job is a named variable on purpose: GCC 12 destroys some temporaries
// of a co_await full-expression twice (ASan caught a lambda temporary's
// captured shared_ptr freed twice here), so coroutine code in this project
// keeps non-trivial temporaries out of co_await expressions.
// The calling coroutine is suspended while the job runs on a pool thread and
// resumes on its own executor. The job must own (or outlive-safely share)
// everything it touches: the caller stays suspended until it finishes, so
// references to the caller's frame are fine, but nothing else is.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <system_error>

namespace sluice::storage {

class BlockingPool {
 public:
  explicit BlockingPool(unsigned threads);
  ~BlockingPool();  // waits for queued jobs, then joins
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  boost::asio::awaitable<std::error_code> run(std::function<std::error_code()>&& job);
  // Runs without waiting for the result (clean-up of an abandoned message).
  void post(std::function<void()> job);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::storage
