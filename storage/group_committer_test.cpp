// GroupCommitter: many sessions' commits through one writer thread, batched
// into shared transactions, each caller resumed on its own executor.
#include "storage/group_committer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "storage/test_support.hpp"

namespace sluice::storage {
namespace {

namespace asio = boost::asio;
using testing::sample_record;
using testing::TempDir;

std::unique_ptr<QueueStore> open_store(const std::string& dir) {
  std::error_code ec;
  std::string text;
  auto s = QueueStore::open(dir, {}, ec, text);
  EXPECT_TRUE(s) << text;
  return s;
}

// Holds the committer thread inside a transaction until released, so that
// everything submitted meanwhile queues up and lands in one later batch.
class Gate {
 public:
  GroupCommitter::Apply apply() {
    return [this](QueueWriter&) -> std::error_code {
      entered_.set_value();
      released_.wait();
      return {};
    };
  }
  void wait_entered() { entered_future_.wait(); }
  void release() { release_.set_value(); }

 private:
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
};

struct Outcome {
  std::error_code ec;
  std::thread::id applied_on;  // the committer thread
  std::thread::id resumed_on;  // where the awaiting coroutine went on
  bool finished = false;
};

// The caller keeps id alive (house rule: coroutines take class types by reference).
asio::awaitable<void> commit_one(GroupCommitter& c, const std::string& id, Outcome& out) {
  GroupCommitter::Apply apply = [id, &out](QueueWriter& w) -> std::error_code {
    out.applied_on = std::this_thread::get_id();
    return w.put(sample_record(id));
  };
  std::error_code ec = co_await c.commit(std::move(apply), false);
  out.ec = ec;
  out.resumed_on = std::this_thread::get_id();
  out.finished = true;
}

// Two io_contexts, one thread each (two workers of the gateway).
struct TwoWorkers {
  asio::io_context io[2];
  std::thread::id thread_id[2];
  std::thread threads[2];

  void run() {
    std::promise<void> started[2];
    for (int i = 0; i < 2; ++i)
      threads[i] = std::thread([this, i, &started] {
        thread_id[i] = std::this_thread::get_id();
        started[i].set_value();
        io[i].run();
      });
    for (auto& p : started) p.get_future().wait();
  }
  void join() {
    for (auto& t : threads) t.join();
  }
};

TEST(GroupCommitter, ConcurrentCommitsFromTwoThreadsAllLandAndResumeAtHome) {
  TempDir t;
  auto store = open_store(t.path());
  GroupCommitter committer(*store, nullptr);
  constexpr int kPerWorker = 200;
  std::vector<Outcome> out(2 * kPerWorker);
  TwoWorkers w;
  Gate gate;
  // Hold the writer so that the coroutines below pile up behind it.
  std::promise<std::error_code> gate_done;
  committer.submit(gate.apply(), [&](std::error_code ec) { gate_done.set_value(ec); });
  gate.wait_entered();
  std::vector<std::string> ids;
  for (int i = 0; i < 2 * kPerWorker; ++i) ids.push_back("1c" + std::to_string(10000 + i) + "-00000000000-0000");
  for (int i = 0; i < 2 * kPerWorker; ++i)
    asio::co_spawn(w.io[i % 2], commit_one(committer, ids[i], out[i]), asio::detached);
  w.run();
  // Give the coroutines time to reach commit() while the gate holds.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  gate.release();
  w.join();  // each io_context runs out of work once all its coroutines ended
  EXPECT_FALSE(gate_done.get_future().get());

  std::set<std::thread::id> committer_threads;
  for (int i = 0; i < 2 * kPerWorker; ++i) {
    ASSERT_TRUE(out[i].finished) << i;
    EXPECT_FALSE(out[i].ec) << i << ": " << out[i].ec.message();
    EXPECT_EQ(out[i].resumed_on, w.thread_id[i % 2]) << "coroutine " << i << " resumed away from its worker";
    EXPECT_NE(out[i].resumed_on, out[i].applied_on);
    committer_threads.insert(out[i].applied_on);
  }
  ASSERT_EQ(committer_threads.size(), 1u) << "one writer thread";
  EXPECT_NE(*committer_threads.begin(), w.thread_id[0]);
  EXPECT_NE(*committer_threads.begin(), w.thread_id[1]);

  store->read([&](const QueueView& v) { EXPECT_EQ(v.count(), static_cast<std::uint64_t>(2 * kPerWorker)); });
  const auto& st = committer.stats();
  EXPECT_EQ(st.requests.load(), 2u * kPerWorker + 1);
  EXPECT_LT(st.transactions.load(), st.requests.load() / 4) << "commits were not batched";
  EXPECT_EQ(st.failures.load(), 0u);
}

TEST(GroupCommitter, BatchesUnderUnforcedConcurrency) {
  // No gate: many coroutines at once. Batches form by themselves while the
  // writer waits on fsync, so there must be fewer transactions than requests.
  TempDir t;
  auto store = open_store(t.path());
  GroupCommitter committer(*store, nullptr);
  constexpr int kPerWorker = 300;
  std::vector<Outcome> out(2 * kPerWorker);
  TwoWorkers w;
  std::vector<std::string> ids;
  for (int i = 0; i < 2 * kPerWorker; ++i) ids.push_back("id-" + std::to_string(100000 + i));
  for (int i = 0; i < 2 * kPerWorker; ++i)
    asio::co_spawn(w.io[i % 2], commit_one(committer, ids[i], out[i]), asio::detached);
  w.run();
  w.join();
  for (const auto& o : out) ASSERT_TRUE(o.finished && !o.ec);
  store->read([&](const QueueView& v) { EXPECT_EQ(v.count(), static_cast<std::uint64_t>(2 * kPerWorker)); });
  EXPECT_EQ(committer.stats().requests.load(), 2u * kPerWorker);
  EXPECT_LT(committer.stats().transactions.load(), committer.stats().requests.load());
}

TEST(GroupCommitter, AFailingRequestFailsAloneAndTheOthersCommit) {
  TempDir t;
  auto store = open_store(t.path());
  GroupCommitter committer(*store, nullptr);
  std::vector<std::pair<std::size_t, std::error_code>> observed;
  std::mutex mu;
  committer.set_observer([&](std::size_t batch, double, std::error_code ec) {
    std::lock_guard lock(mu);
    observed.emplace_back(batch, ec);
  });
  Gate gate;
  std::promise<std::error_code> gate_done;
  committer.submit(gate.apply(), [&](std::error_code ec) { gate_done.set_value(ec); });
  gate.wait_entered();

  std::promise<std::error_code> results[5];
  for (int i = 0; i < 5; ++i) {
    GroupCommitter::Apply a = [i](QueueWriter& w) -> std::error_code {
      if (i == 2) {
        // Writes something first: the abort must take it away too.
        if (auto e = w.put(sample_record("id-bad"))) return e;
        return std::make_error_code(std::errc::value_too_large);
      }
      return w.put(sample_record("id-" + std::to_string(i)));
    };
    committer.submit(std::move(a), [&results, i](std::error_code ec) { results[i].set_value(ec); });
  }
  gate.release();
  EXPECT_FALSE(gate_done.get_future().get());
  for (int i = 0; i < 5; ++i) {
    std::error_code ec = results[i].get_future().get();
    if (i == 2) EXPECT_EQ(ec, std::errc::value_too_large);
    else EXPECT_FALSE(ec) << i << ": " << ec.message();
  }
  store->read([&](const QueueView& v) {
    for (int i = 0; i < 5; ++i) EXPECT_EQ(v.record("id-" + std::to_string(i)).has_value(), i != 2) << i;
    EXPECT_FALSE(v.record("id-bad").has_value());
  });
  const auto& st = committer.stats();
  // The gate alone, the batch of five (failed), then one each.
  EXPECT_EQ(st.transactions.load(), 7u);
  EXPECT_EQ(st.failures.load(), 2u);
  std::lock_guard lock(mu);
  ASSERT_EQ(observed.size(), 7u);
  EXPECT_EQ(observed[1].first, 5u);
  EXPECT_TRUE(observed[1].second);
}

TEST(GroupCommitter, PreCommitRunsOnlyWhenAskedAndItsFailureFailsTheBatch) {
  TempDir t;
  auto store = open_store(t.path());
  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};
  GroupCommitter committer(*store, [&]() -> std::error_code {
    ++calls;
    return fail ? std::make_error_code(std::errc::io_error) : std::error_code{};
  });
  asio::io_context io;
  auto commit = [&](std::string id, bool pre) {
    return testing::run_on<std::error_code>(io, [&]() -> asio::awaitable<std::error_code> {
      GroupCommitter::Apply a = [id](QueueWriter& w) { return w.put(sample_record(id)); };
      std::error_code ec = co_await committer.commit(std::move(a), pre);
      co_return ec;
    });
  };
  EXPECT_FALSE(commit("id-1", false));
  EXPECT_EQ(calls.load(), 0);
  EXPECT_FALSE(commit("id-2", true));
  EXPECT_EQ(calls.load(), 1);
  fail = true;
  EXPECT_EQ(commit("id-3", true), std::errc::io_error);
  store->read([&](const QueueView& v) {
    EXPECT_TRUE(v.record("id-2").has_value());
    EXPECT_FALSE(v.record("id-3").has_value()) << "a record whose body file is not durable must not commit";
  });
}

TEST(GroupCommitter, DestructorFinishesWhatIsQueued) {
  TempDir t;
  auto store = open_store(t.path());
  std::atomic<int> done{0};
  {
    GroupCommitter committer(*store, nullptr);
    for (int i = 0; i < 50; ++i)
      committer.submit([i](QueueWriter& w) { return w.put(sample_record("id-" + std::to_string(i))); },
                       [&](std::error_code ec) { done += ec ? 0 : 1; });
  }
  EXPECT_EQ(done.load(), 50);
  store->read([&](const QueueView& v) { EXPECT_EQ(v.count(), 50u); });
}

}  // namespace
}  // namespace sluice::storage
