// group_committer.hpp — one thread that turns many sessions' commits into
// one LMDB write transaction, so one fsync serves them all.
//
// A session hands over a closure that writes its message into a transaction
// and awaits the result; the committer thread takes everything that has
// queued up since its last commit, runs all of it in one transaction and
// commits (LMDB: data pages, fsync, meta page, fsync). No batching delay is
// added: while one commit waits on the disk, the next batch gathers by
// itself, so the batch grows with the load. If one closure fails (say the
// map is full for a 50 MB record), the batch is aborted and retried one
// request per transaction, so the others still commit.
// Completions are posted to each caller's own executor: a session never
// resumes on this thread. Event-loop threads never wait on the disk.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "storage/queue_store.hpp"

namespace sluice::storage {

// Counters read by metrics and the benchmarks (relaxed atomics).
struct CommitStats {
  std::atomic<std::uint64_t> transactions{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> commit_micros{0};  // summed time in mdb_txn_commit
};

// Called after every transaction (committer thread): batch size and the
// seconds its commit took. For latency histograms.
using CommitObserver = std::function<void(std::size_t batch, double seconds, std::error_code ec)>;

class GroupCommitter {
 public:
  using Apply = std::function<std::error_code(QueueWriter&)>;
  // Runs on the committer thread just before the transaction commits, when
  // some request in the batch asked for it (fsync of the bodies directory).
  using PreCommit = std::function<std::error_code()>;

  GroupCommitter(QueueStore& store, PreCommit pre_commit);
  ~GroupCommitter();  // finishes what is queued, then joins
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // needs_pre_commit: this request's body is in a file whose directory entry
  // must be durable before the record that names it.
  boost::asio::awaitable<std::error_code> commit(Apply&& apply, bool needs_pre_commit);
  // Fire and forget (the queue runner's state updates ride along too).
  void submit(Apply apply, std::function<void(std::error_code)> done);

  const CommitStats& stats() const { return stats_; }
  void set_observer(CommitObserver o);

 private:
  struct Request {
    Apply apply;
    bool needs_pre_commit = false;
    std::function<void(std::error_code)> done;
  };
  void enqueue(Request&& r);
  void run();
  void commit_batch(std::vector<Request>& batch);
  std::error_code commit_some(std::vector<Request>& batch, std::size_t first, std::size_t last);

  QueueStore& store_;
  PreCommit pre_commit_;
  CommitStats stats_;
  CommitObserver observer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::storage
