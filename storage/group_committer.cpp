#include "storage/group_committer.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace sluice::storage {

namespace asio = boost::asio;

GroupCommitter::GroupCommitter(QueueStore& store, PreCommit pre_commit)
    : store_(store), pre_commit_(std::move(pre_commit)), thread_([this] { run(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void GroupCommitter::set_observer(CommitObserver o) {
  std::lock_guard lock(mu_);
  observer_ = std::move(o);
}

asio::awaitable<std::error_code> GroupCommitter::commit(Apply&& apply, bool needs_pre_commit) {
  // Same shape as BlockingPool::run: a plain asynchronous operation whose
  // completion is posted back to the awaiting coroutine's executor.
  auto initiation = [this](auto handler, Apply work, bool pre) {
    auto guard = asio::make_work_guard(asio::get_associated_executor(handler));
    auto done = [handler = std::move(handler), guard = std::move(guard)](std::error_code ec) mutable {
      auto ex = guard.get_executor();
      asio::post(ex, [handler = std::move(handler), ec, guard = std::move(guard)]() mutable {
        std::move(handler)(ec);
      });
    };
    // std::function needs a copyable callable; the handler is move-only.
    auto shared = std::make_shared<decltype(done)>(std::move(done));
    enqueue(Request{std::move(work), pre, [shared](std::error_code ec) { (*shared)(ec); }});
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::error_code)>(
      std::move(initiation), asio::use_awaitable, std::move(apply), needs_pre_commit);
}

void GroupCommitter::submit(Apply apply, std::function<void(std::error_code)> done) {
  enqueue(Request{std::move(apply), false, std::move(done)});
}

void GroupCommitter::enqueue(Request&& r) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(r));
  }
  cv_.notify_one();
}

void GroupCommitter::run() {
  std::vector<Request> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty() && stopping_) return;
      batch.swap(pending_);
    }
    commit_batch(batch);
    batch.clear();
  }
}

std::error_code GroupCommitter::commit_some(std::vector<Request>& batch, std::size_t first, std::size_t last) {
  bool pre = false;
  for (std::size_t i = first; i < last; ++i) pre = pre || batch[i].needs_pre_commit;
  if (pre && pre_commit_) {
    if (auto ec = pre_commit_()) return ec;
  }
  const auto started = std::chrono::steady_clock::now();
  std::error_code ec = store_.write([&](QueueWriter& w) -> std::error_code {
    for (std::size_t i = first; i < last; ++i)
      if (auto e = batch[i].apply(w)) return e;
    return {};
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  stats_.transactions.fetch_add(1, std::memory_order_relaxed);
  stats_.requests.fetch_add(last - first, std::memory_order_relaxed);
  stats_.commit_micros.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  if (ec) stats_.failures.fetch_add(1, std::memory_order_relaxed);
  CommitObserver observer;
  {
    std::lock_guard lock(mu_);
    observer = observer_;
  }
  if (observer) observer(last - first, seconds, ec);
  return ec;
}

void GroupCommitter::commit_batch(std::vector<Request>& batch) {
  std::error_code ec = commit_some(batch, 0, batch.size());
  if (!ec || batch.size() == 1) {
    for (auto& r : batch)
      if (r.done) r.done(ec);
    return;
  }
  // Someone's write failed and took the transaction with it: give each
  // request its own transaction so one oversized message cannot fail the
  // rest of the batch.
  for (std::size_t i = 0; i < batch.size(); ++i) {
    std::error_code one = commit_some(batch, i, i + 1);
    if (batch[i].done) batch[i].done(one);
  }
}

}  // namespace sluice::storage
