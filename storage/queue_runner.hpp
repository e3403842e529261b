// queue_runner.hpp — takes committed messages through their routes.
//
// One thread of its own (exports write and fsync files; that must never
// happen on an event loop). It hears of new messages from the spool right
// after their commit, and once a second it looks at the retry index for
// deferred messages that are due (so `sluice queue retry|flush`, run in
// another process, takes effect within a second), and sweeps finished
// records older than keep_done (every min(keep_done, 60 s), at least 1 s
// apart, so a short keep_done is honoured about on time).
// Per recipient (storage/routing.hpp): discard → delivered at once;
// queuefile → one Exim -H/-D pair per route with that route's recipients;
// relay → left pending for the delivery agent (the relay issue).
// A message is marked "delivering" (committed) before an export starts and
// gets its outcome committed after, so a crash in between re-runs that
// export once at restart (it rewrites the same file names) rather than
// losing it; all state changes ride the group committer.
// A commit that fails (a full disk; the map keeps room for these, see
// storage/map_headroom.hpp) is tried again at the next once-a-second tick:
// a message not marked "delivering" goes through its routes again (nothing
// was exported), an outcome not recorded is committed again as it was
// decided (no second export). Logged once per message, not per try. An
// outcome still unrecorded at shutdown leaves its record "delivering", and
// the export runs again after the restart (at least once, never lost).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "storage/queue_record.hpp"
#include "storage/queue_store.hpp"
#include "storage/routing.hpp"

namespace sluice::storage {

class LmdbSpool;

// Where a body is: inline bytes (copied out of LMDB) or a file.
struct BodyRef {
  bool in_file = false;
  std::string path;    // in_file
  std::string bytes;   // !in_file
};

// Exports one copy of a message for the given recipients (indexes into
// record.envelope.recipients). Blocking; runs on the runner thread.
using QueuefileExport = std::function<std::error_code(const QueueRecord& record, const std::vector<std::size_t>& rcpts,
                                                      const Route& route, const BodyRef& body)>;

struct RetryPolicy {
  std::chrono::seconds first{60};
  std::chrono::seconds max{3600};
  std::chrono::seconds give_up{5 * 24 * 3600};
  std::chrono::seconds keep_done{3600};
};

// One line per event, for the gateway's log.
struct RunnerEvent {
  std::string event;   // "delivered", "deferred", "bounced", "discarded", "completed", "purged",
                       // "stale_readers", "error"
  std::string id;
  std::string route;
  std::string recipients;
  std::string detail;
};

class QueueRunner {
 public:
  QueueRunner(LmdbSpool& spool, QueuefileExport exporter, std::function<void(const RunnerEvent&)> log);
  ~QueueRunner();  // stops after the message in hand

  void set_routes(std::shared_ptr<const RouteTable> routes);
  void set_retry(const RetryPolicy& p);
  void start();  // scans the queue for work left from before, then runs
  void notify(const std::string& id);

  // One pass over one message, on the caller's thread (tests).
  void process(const std::string& id);
  // Purges finished records older than keep_done, on the caller's thread.
  // The runner thread does this by itself every min(keep_done, 60 s); this
  // is public so that tests can sweep without waiting for that timer.
  void sweep_now() { sweep(); }

 private:
  // What a pass decided for a message (after its exports, if any): what
  // save() commits, now or, if that fails, at a later tick.
  struct Outcome {
    QueueRecord record;
    std::string body_file;              // removed once the outcome is committed (done, body in a file)
    std::vector<std::size_t> given_up;  // recipients failed now (retry time exceeded)
    std::int64_t now = 0;
  };
  enum class Pass { finished, commit_failed };

  void run();
  void run_due();
  void retry_failed_commits();
  Pass handle(const std::string& id);
  std::error_code save(const Outcome& o);
  void sweep();
  std::error_code purge(const std::vector<std::string>& ids);
  std::error_code update(const std::function<std::error_code(QueueWriter&)>& fn);

  LmdbSpool& spool_;
  QueuefileExport exporter_;
  std::function<void(const RunnerEvent&)> log_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> inbox_;
  // Failed commits, tried again at the next tick (see the top of this file).
  std::set<std::string> unmarked_;          // "delivering" not committed
  std::map<std::string, Outcome> unsaved_;  // the outcome not committed
  std::shared_ptr<const RouteTable> routes_;
  RetryPolicy retry_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::storage
