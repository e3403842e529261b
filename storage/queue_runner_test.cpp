// QueueRunner: routes per recipient, outcomes committed, retries, bounces,
// deletion while busy, and the keep_done sweep. The queuefile exporter is a
// lambda here (the real one is storage/queuefile_*): this tests the runner.
#include "storage/queue_runner.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "storage/lmdb_spool.hpp"
#include "storage/test_support.hpp"

namespace sluice::storage {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using testing::TempDir;

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

asio::awaitable<std::error_code> write_message(MessageWriter& w, const std::string& data, const Envelope& e) {
  std::error_code ec = co_await w.append(data);
  if (ec) co_return ec;
  ec = co_await w.commit(e);
  co_return ec;
}

Route make_route(std::string name, RouteAction action, std::vector<std::string> domains, std::string dir = "") {
  Route r;
  r.name = std::move(name);
  r.action = action;
  r.directory = std::move(dir);
  if (!domains.empty())
    r.domains = [domains = std::move(domains)](std::string_view d) {
      return std::find(domains.begin(), domains.end(), d) != domains.end() ? DomainMatch::yes : DomainMatch::no;
    };
  return r;
}

struct ExportCall {
  std::string id;
  std::vector<std::size_t> rcpts;
  std::string route;
  BodyRef body;
};

class QueueRunnerTest : public ::testing::Test {
 protected:
  QueueRunnerTest() {
    LmdbSpoolOptions o;
    o.directory = tmp_.path();
    o.map_size = 64ull << 20;
    o.inline_max = 1024;
    spool_ = std::make_unique<LmdbSpool>(o, pool_);
    RetryPolicy p;
    p.first = std::chrono::seconds(30);
    p.max = std::chrono::seconds(3600);
    p.give_up = std::chrono::seconds(86400);
    p.keep_done = std::chrono::seconds(3600);
    retry_ = p;
  }

  std::unique_ptr<QueueRunner> make_runner(std::vector<Route> routes) {
    QueuefileExport exporter = [this](const QueueRecord& r, const std::vector<std::size_t>& idx, const Route& route,
                                      const BodyRef& body) -> std::error_code {
      calls_.push_back({r.envelope.id, idx, route.name, body});
      if (during_export_) during_export_(r.envelope.id);
      return export_result_;
    };
    auto runner = std::make_unique<QueueRunner>(*spool_, exporter, [this](const RunnerEvent& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    });
    auto table = std::make_shared<RouteTable>();
    table->routes = std::move(routes);
    runner->set_routes(table);
    runner->set_retry(retry_);
    return runner;
  }

  std::string commit(const std::string& id, std::vector<std::string> rcpts, std::size_t size = 100,
                     std::int64_t received_at = 0) {
    Envelope e;
    e.id = id;
    e.sender = "alice@example.org";
    for (auto& a : rcpts) e.recipients.push_back({a, 0, ""});
    e.received_at = received_at ? received_at : now_s();
    std::string data = "Subject: t\r\n\r\n";
    while (data.size() < size) data += "0123456789abcdef\r\n";
    e.size = data.size();
    auto w = spool_->begin(id);
    std::error_code ec = testing::run_on<std::error_code>(io_, [&] { return write_message(*w, data, e); });
    EXPECT_FALSE(ec) << ec.message();
    return data;
  }

  std::optional<QueueRecord> record(const std::string& id) {
    std::optional<QueueRecord> r;
    spool_->store().read([&](const QueueView& v) { r = v.record(id); });
    return r;
  }
  bool has_inline_body(const std::string& id) {
    bool has = false;
    spool_->store().read([&](const QueueView& v) { has = v.inline_body(id).has_value(); });
    return has;
  }
  // What `sluice queue retry` does: the message is due now.
  void make_due(const std::string& id) {
    ASSERT_FALSE(spool_->store().write([&](QueueWriter& w) -> std::error_code {
      auto r = w.record(id);
      if (!r) return std::make_error_code(std::errc::no_such_file_or_directory);
      r->next_retry = now_s();
      return w.put(*r);
    }));
  }
  std::vector<std::string> event_names(const std::string& id = "") {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& e : events_)
      if (id.empty() || e.id == id) out.push_back(e.event);
    return out;
  }

  TempDir tmp_;
  asio::io_context io_;
  BlockingPool pool_{1};
  std::unique_ptr<LmdbSpool> spool_;
  RetryPolicy retry_;
  std::vector<ExportCall> calls_;
  std::error_code export_result_;
  std::function<void(const std::string&)> during_export_;
  std::mutex mu_;
  std::vector<RunnerEvent> events_;
};

TEST_F(QueueRunnerTest, DiscardRouteFinishesTheMessageAndDropsTheBody) {
  auto runner = make_runner({make_route("drop", RouteAction::discard, {})});
  commit("id-small", {"a@example.net", "b@example.net"}, 100);
  commit("id-big", {"a@example.net"}, 5000);
  ASSERT_TRUE(has_inline_body("id-small"));
  ASSERT_TRUE(fs::exists(spool_->store().body_path("id-big")));
  runner->process("id-small");
  runner->process("id-big");
  for (const char* id : {"id-small", "id-big"}) {
    auto r = record(id);
    ASSERT_TRUE(r) << id;
    EXPECT_EQ(r->state, MessageState::done) << id;
    for (const auto& p : r->progress) {
      EXPECT_EQ(p.state, RecipientState::delivered);
      EXPECT_EQ(p.route, "drop");
    }
    EXPECT_EQ(r->attempts, 0u) << "discarding is no delivery attempt";
  }
  EXPECT_FALSE(has_inline_body("id-small"));
  EXPECT_FALSE(fs::exists(spool_->store().body_path("id-big")));
  EXPECT_TRUE(calls_.empty());
  EXPECT_EQ(event_names("id-small"), (std::vector<std::string>{"discarded", "completed"}));
  // Done is done: another pass changes nothing.
  const std::string before = to_json(*record("id-small"));
  runner->process("id-small");
  EXPECT_EQ(to_json(*record("id-small")), before);
}

TEST_F(QueueRunnerTest, NoRoutesLeavesRecipientsForRelay) {
  auto runner = make_runner({});
  commit("id-r", {"a@example.net"});
  const auto txns = spool_->committer().stats().transactions.load();
  runner->process("id-r");
  auto r = record("id-r");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, MessageState::queued);
  EXPECT_EQ(r->progress[0].state, RecipientState::pending);
  EXPECT_EQ(r->progress[0].route, "") << "relay-pending recipients are not written back";
  EXPECT_TRUE(has_inline_body("id-r"));
  // Nothing is committed for it, on this pass or the next: with no routes
  // (the default) a message costs one commit, not two.
  EXPECT_EQ(spool_->committer().stats().transactions.load(), txns);
  runner->process("id-r");
  EXPECT_EQ(spool_->committer().stats().transactions.load(), txns);
}

TEST_F(QueueRunnerTest, QueuefileSuccessDelivers) {
  auto runner = make_runner({make_route("exim", RouteAction::queuefile, {}, "/var/spool/exim")});
  const std::string data = commit("id-q", {"a@example.net", "b@example.org"});
  const std::string big = commit("id-qb", {"c@example.net"}, 4000);
  runner->process("id-q");
  runner->process("id-qb");
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(calls_[0].id, "id-q");
  EXPECT_EQ(calls_[0].rcpts, (std::vector<std::size_t>{0, 1})) << "one copy for the route's recipients";
  EXPECT_EQ(calls_[0].route, "exim");
  EXPECT_FALSE(calls_[0].body.in_file);
  EXPECT_EQ(calls_[0].body.bytes, data);
  EXPECT_TRUE(calls_[1].body.in_file);
  EXPECT_EQ(calls_[1].body.path, spool_->store().body_path("id-qb"));
  auto r = record("id-q");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, MessageState::done);
  EXPECT_EQ(r->attempts, 1u);
  for (const auto& p : r->progress) {
    EXPECT_EQ(p.state, RecipientState::delivered);
    EXPECT_EQ(p.route, "exim");
  }
  EXPECT_FALSE(has_inline_body("id-q"));
  EXPECT_FALSE(fs::exists(spool_->store().body_path("id-qb")));
  EXPECT_EQ(event_names("id-q"), (std::vector<std::string>{"delivered", "completed"}));
}

TEST_F(QueueRunnerTest, ExportErrorDefersThenRetriesWhenDue) {
  retry_.first = std::chrono::seconds(30);
  auto runner = make_runner({make_route("exim", RouteAction::queuefile, {}, "/nonexistent")});
  commit("id-d", {"a@example.net"});
  export_result_ = std::make_error_code(std::errc::permission_denied);
  const std::int64_t t0 = now_s();
  runner->process("id-d");
  auto r = record("id-d");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, MessageState::deferred);
  EXPECT_GE(r->next_retry, t0 + 30);
  EXPECT_LE(r->next_retry, now_s() + 30);
  EXPECT_EQ(r->attempts, 1u);
  EXPECT_EQ(r->progress[0].state, RecipientState::deferred);
  EXPECT_NE(r->progress[0].last_error.find("/nonexistent"), std::string::npos) << r->progress[0].last_error;
  EXPECT_TRUE(has_inline_body("id-d")) << "a deferred message keeps its body";
  std::vector<std::string> due;
  spool_->store().read([&](const QueueView& v) {
    v.for_each_due(r->next_retry, [&](std::string_view id) {
      due.emplace_back(id);
      return true;
    });
  });
  EXPECT_EQ(due, std::vector<std::string>{"id-d"});

  // Not due yet: a pass does not try again.
  runner->process("id-d");
  EXPECT_EQ(calls_.size(), 1u);

  // Due (as `sluice queue retry` makes it), still failing: the interval doubles.
  make_due("id-d");
  const std::int64_t t1 = now_s();
  runner->process("id-d");
  EXPECT_EQ(calls_.size(), 2u);
  r = record("id-d");
  EXPECT_EQ(r->state, MessageState::deferred);
  EXPECT_EQ(r->attempts, 2u);
  EXPECT_GE(r->next_retry, t1 + 60);
  EXPECT_LE(r->next_retry, now_s() + 60);

  // Due, and the export works now.
  make_due("id-d");
  export_result_.clear();
  runner->process("id-d");
  EXPECT_EQ(calls_.size(), 3u);
  r = record("id-d");
  EXPECT_EQ(r->state, MessageState::done);
  EXPECT_EQ(r->progress[0].state, RecipientState::delivered);
  EXPECT_EQ(r->progress[0].last_error, "");
  EXPECT_EQ(r->attempts, 3u);
  spool_->store().read([&](const QueueView& v) {
    v.for_each_due(INT64_MAX, [&](std::string_view id) {
      ADD_FAILURE() << "still in the retry index: " << id;
      return true;
    });
  });
}

TEST_F(QueueRunnerTest, BackoffStopsAtRetryMax) {
  retry_.first = std::chrono::seconds(100);
  retry_.max = std::chrono::seconds(250);
  auto runner = make_runner({make_route("exim", RouteAction::queuefile, {}, "/x")});
  commit("id-m", {"a@example.net"});
  export_result_ = std::make_error_code(std::errc::io_error);
  std::vector<std::int64_t> delays;
  for (int i = 0; i < 4; ++i) {
    if (i) make_due("id-m");
    const std::int64_t t = now_s();
    runner->process("id-m");
    delays.push_back(record("id-m")->next_retry - t);
  }
  ASSERT_EQ(delays.size(), 4u);
  EXPECT_NEAR(delays[0], 100, 1);
  EXPECT_NEAR(delays[1], 200, 1);
  EXPECT_NEAR(delays[2], 250, 1);
  EXPECT_NEAR(delays[3], 250, 1);
}

TEST_F(QueueRunnerTest, GiveUpBouncesDeferredRecipients) {
  retry_.give_up = std::chrono::seconds(3600);
  auto runner = make_runner({make_route("drop", RouteAction::discard, {"drop.test"}),
                             make_route("exim", RouteAction::queuefile, {}, "/x")});
  // Received two hours ago: past give_up at its first failure.
  commit("id-g", {"a@drop.test", "b@example.net"}, 100, now_s() - 7200);
  export_result_ = std::make_error_code(std::errc::permission_denied);
  runner->process("id-g");
  auto r = record("id-g");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, MessageState::bounced);
  EXPECT_EQ(r->progress[0].state, RecipientState::delivered);
  EXPECT_EQ(r->progress[1].state, RecipientState::failed);
  EXPECT_NE(r->progress[1].last_error.find("retry time exceeded"), std::string::npos) << r->progress[1].last_error;
  spool_->store().read([&](const QueueView& v) {
    v.for_each_due(INT64_MAX, [&](std::string_view id) {
      ADD_FAILURE() << "a bounced message is not retried: " << id;
      return true;
    });
  });
  auto ev = event_names("id-g");
  EXPECT_NE(std::find(ev.begin(), ev.end(), "bounced"), ev.end());
  // Bounced is final.
  runner->process("id-g");
  EXPECT_EQ(calls_.size(), 1u);
}

TEST_F(QueueRunnerTest, MixedRoutesPerRecipient) {
  auto runner = make_runner({make_route("drop", RouteAction::discard, {"drop.test"}),
                             make_route("exim", RouteAction::queuefile, {"exim.test"}, "/q"),
                             make_route("other", RouteAction::queuefile, {"other.test"}, "/o")});
  commit("id-x", {"a@drop.test", "b@EXIM.test", "c@relay.test", "d@exim.test", "e@other.test"});
  runner->process("id-x");
  ASSERT_EQ(calls_.size(), 2u) << "one export per route";
  std::map<std::string, std::vector<std::size_t>> by_route;
  for (const auto& c : calls_) by_route[c.route] = c.rcpts;
  EXPECT_EQ(by_route["exim"], (std::vector<std::size_t>{1, 3}));
  EXPECT_EQ(by_route["other"], (std::vector<std::size_t>{4}));
  auto r = record("id-x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, MessageState::queued) << "the relay recipient still waits";
  EXPECT_EQ(r->progress[0].state, RecipientState::delivered);
  EXPECT_EQ(r->progress[0].route, "drop");
  EXPECT_EQ(r->progress[1].state, RecipientState::delivered);
  EXPECT_EQ(r->progress[1].route, "exim");
  EXPECT_EQ(r->progress[2].state, RecipientState::pending);
  EXPECT_EQ(r->progress[2].route, "");
  EXPECT_EQ(r->progress[4].route, "other");
  EXPECT_TRUE(has_inline_body("id-x")) << "the body stays for the relay recipient";
  // A second pass exports nothing again.
  runner->process("id-x");
  EXPECT_EQ(calls_.size(), 2u);
}

TEST_F(QueueRunnerTest, OneRouteFailingDefersOnlyItsRecipients) {
  auto runner = make_runner({make_route("good", RouteAction::queuefile, {"good.test"}, "/g"),
                             make_route("bad", RouteAction::queuefile, {"bad.test"}, "/b")});
  commit("id-p", {"a@good.test", "b@bad.test"});
  // Fail only the "bad" route.
  during_export_ = [this](const std::string&) {
    export_result_ = calls_.back().route == "bad" ? std::make_error_code(std::errc::permission_denied)
                                                  : std::error_code{};
  };
  runner->process("id-p");
  auto r = record("id-p");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, MessageState::deferred);
  EXPECT_EQ(r->progress[0].state, RecipientState::delivered);
  EXPECT_EQ(r->progress[1].state, RecipientState::deferred);
  make_due("id-p");
  export_result_.clear();
  during_export_ = nullptr;
  runner->process("id-p");
  ASSERT_EQ(calls_.size(), 3u);
  EXPECT_EQ(calls_[2].route, "bad") << "the delivered recipient is not exported twice";
  EXPECT_EQ(record("id-p")->state, MessageState::done);
}

TEST_F(QueueRunnerTest, DomainLookupFailureDefers) {
  Route broken = make_route("lookup", RouteAction::queuefile, {}, "/q");
  broken.domains = [](std::string_view) { return DomainMatch::defer; };
  auto runner = make_runner({broken});
  commit("id-l", {"a@example.net"});
  runner->process("id-l");
  auto r = record("id-l");
  EXPECT_EQ(r->state, MessageState::deferred);
  EXPECT_EQ(r->progress[0].state, RecipientState::deferred);
  EXPECT_TRUE(calls_.empty());
}

TEST_F(QueueRunnerTest, RecordDeletedDuringExportStaysDeleted) {
  auto runner = make_runner({make_route("exim", RouteAction::queuefile, {}, "/q")});
  commit("id-del", {"a@example.net"});
  // `sluice queue delete` from another process while the export runs.
  during_export_ = [this](const std::string& id) {
    ASSERT_FALSE(spool_->store().write([&](QueueWriter& w) -> std::error_code {
      if (auto e = w.erase_body(id)) return e;
      return w.erase_record(id);
    }));
  };
  export_result_ = std::make_error_code(std::errc::permission_denied);
  runner->process("id-del");
  EXPECT_EQ(calls_.size(), 1u);
  EXPECT_FALSE(record("id-del").has_value());
  spool_->store().read([&](const QueueView& v) {
    EXPECT_EQ(v.count(), 0u);
    v.for_each_due(INT64_MAX, [&](std::string_view id) {
      ADD_FAILURE() << "a deleted message came back in the retry index: " << id;
      return true;
    });
  });
  runner->process("id-del");  // a late notify for it is harmless
  EXPECT_FALSE(record("id-del").has_value());
}

TEST_F(QueueRunnerTest, UnknownIdIsIgnored) {
  auto runner = make_runner({});
  runner->process("no-such-id");
  EXPECT_TRUE(event_names().empty());
}

TEST_F(QueueRunnerTest, SweepPurgesFinishedRecordsAfterKeepDone) {
  retry_.give_up = std::chrono::seconds(0);
  auto runner = make_runner({make_route("drop", RouteAction::discard, {"drop.test"}),
                             make_route("exim", RouteAction::queuefile, {}, "/q")});
  commit("id-done", {"a@drop.test"});
  commit("id-bounced", {"a@example.net"}, 3000);  // body in a file
  commit("id-waiting", {"a@drop.test", "b@example.net"});
  export_result_ = std::make_error_code(std::errc::permission_denied);
  runner->process("id-done");
  runner->process("id-bounced");
  ASSERT_EQ(record("id-bounced")->state, MessageState::bounced);
  ASSERT_TRUE(fs::exists(spool_->store().body_path("id-bounced"))) << "a bounce keeps its body until the sweep";

  // Too young to purge.
  runner->sweep_now();
  EXPECT_TRUE(record("id-done").has_value());
  EXPECT_TRUE(record("id-bounced").has_value());

  retry_.keep_done = std::chrono::seconds(0);
  runner->set_retry(retry_);
  runner->sweep_now();
  EXPECT_FALSE(record("id-done").has_value());
  EXPECT_FALSE(record("id-bounced").has_value());
  EXPECT_FALSE(fs::exists(spool_->store().body_path("id-bounced")));
  EXPECT_TRUE(record("id-waiting").has_value()) << "unfinished messages are never swept";
  EXPECT_TRUE(has_inline_body("id-waiting"));
  auto ev = event_names("id-done");
  EXPECT_EQ(ev.back(), "purged");
}

TEST_F(QueueRunnerTest, StartedRunnerTakesNewAndLeftoverMessages) {
  // A message left queued before the start, one committed after it.
  commit("id-old", {"a@drop.test"});
  auto runner = make_runner({make_route("drop", RouteAction::discard, {"drop.test"})});
  spool_->set_on_committed([r = runner.get()](const std::string& id) { r->notify(id); });
  runner->start();
  commit("id-new", {"b@drop.test"});
  auto done = [&](const char* id) {
    for (int i = 0; i < 500; ++i) {
      auto r = record(id);
      if (r && r->state == MessageState::done) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  EXPECT_TRUE(done("id-old"));
  EXPECT_TRUE(done("id-new"));
  runner.reset();  // stops and joins
  spool_->set_on_committed(nullptr);
}

TEST_F(QueueRunnerTest, StartedRunnerRetriesDueMessagesByItself) {
  retry_.first = std::chrono::seconds(1);
  auto runner = make_runner({make_route("exim", RouteAction::queuefile, {}, "/q")});
  export_result_ = std::make_error_code(std::errc::permission_denied);
  commit("id-t", {"a@example.net"});
  runner->process("id-t");
  ASSERT_EQ(record("id-t")->state, MessageState::deferred);
  export_result_.clear();
  runner->start();  // the once-a-second check finds it due within ~2 s
  bool done = false;
  for (int i = 0; i < 500 && !done; ++i) {
    auto r = record("id-t");
    done = r && r->state == MessageState::done;
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  runner.reset();
  EXPECT_TRUE(done);
}

// A read transaction held open on a thread of its own: LMDB keeps every
// page freed after it began for its snapshot, so those pages are no room
// until it ends.
class PinnedSnapshot {
 public:
  explicit PinnedSnapshot(QueueStore& store) {
    std::promise<void> began;
    auto began_f = began.get_future();
    thread_ = std::thread([this, &store, &began] {
      store.read([&](const QueueView&) {
        began.set_value();
        release_.get_future().wait();
      });
    });
    began_f.wait();
  }
  ~PinnedSnapshot() { release(); }
  void release() {
    if (!thread_.joinable()) return;
    release_.set_value();
    thread_.join();
  }

 private:
  std::promise<void> release_;
  std::thread thread_;
};

// A 1 MiB map for the tests of a full map, with room made for later: a
// large value is written and erased under a pinned snapshot, so the room it
// leaves comes free only when the test releases the pin.
class FullMapTest : public QueueRunnerTest {
 protected:
  FullMapTest() {
    spool_.reset();
    LmdbSpoolOptions o;
    o.directory = tmp_.path();
    o.map_size = 1 << 20;
    o.inline_max = 1024;
    spool_ = std::make_unique<LmdbSpool>(o, pool_);
  }
  void reserve_room_behind_a_pin() {
    ASSERT_FALSE(spool_->store().write([](QueueWriter& w) { return w.put_inline_body("room", std::string(200'000, 'r')); }));
    pin_ = std::make_unique<PinnedSnapshot>(spool_->store());
    ASSERT_FALSE(spool_->store().write([](QueueWriter& w) { return w.erase_body("room"); }));
  }
  // Ever smaller fillers, each its own transaction, until none fits.
  void fill_map() {
    int n = 0;
    for (std::size_t size : {100'000, 10'000, 1'000, 100})
      while (!spool_->store().write([&](QueueWriter& w) {
        return w.put_inline_body("fill-" + std::to_string(n), std::string(size, 'f'));
      }))
        ++n;
  }
  // A message whose record takes several pages: 100 recipients.
  void commit_big(const std::string& id) {
    std::vector<std::string> rcpts;
    for (int i = 0; i < 100; ++i) rcpts.push_back("recipient-" + std::to_string(i) + "-of-a-long-list@scan.example");
    commit(id, rcpts);
  }
  bool wait_for_event(const std::string& id, const std::string& event) {
    for (int i = 0; i < 500; ++i) {
      auto names = event_names(id);
      if (std::find(names.begin(), names.end(), event) != names.end()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::unique_ptr<PinnedSnapshot> pin_;
};

TEST_F(FullMapTest, AMessageThatCannotBeMarkedDeliveringIsTriedAgain) {
  auto runner = make_runner({make_route("scan", RouteAction::queuefile, {}, "/scan")});
  commit_big("id-m");
  reserve_room_behind_a_pin();
  fill_map();
  runner->start();  // finds id-m queued; "delivering" does not fit
  ASSERT_TRUE(wait_for_event("id-m", "error")) << "the mark should not have fitted";
  EXPECT_EQ(record("id-m")->state, MessageState::queued);
  // Before: still queued, with no retry entry, and never handed to the
  // runner again (until a restart). Now it is tried again every second.
  pin_->release();
  EXPECT_TRUE(wait_for_event("id-m", "completed"));
  runner.reset();
  EXPECT_EQ(record("id-m")->state, MessageState::done);
  EXPECT_EQ(calls_.size(), 1u);
  EXPECT_EQ(event_names("id-m"), (std::vector<std::string>{"error", "delivered", "completed"})) << "logged once";
}

TEST_F(FullMapTest, AnOutcomeThatCannotBeCommittedIsCommittedLater) {
  auto runner = make_runner({make_route("scan", RouteAction::queuefile, {}, "/scan")});
  commit_big("id-o");
  reserve_room_behind_a_pin();
  during_export_ = [this](const std::string&) { fill_map(); };  // after "delivering", before the outcome
  runner->start();
  ASSERT_TRUE(wait_for_event("id-o", "error")) << "the outcome should not have fitted";
  EXPECT_EQ(record("id-o")->state, MessageState::delivering);
  // Before: "delivering" until a restart, which then exported it again.
  // Now the outcome as decided is committed again every second: no second
  // export.
  pin_->release();
  EXPECT_TRUE(wait_for_event("id-o", "completed"));
  runner.reset();
  auto r = record("id-o");
  EXPECT_EQ(r->state, MessageState::done);
  EXPECT_EQ(r->progress[0].state, RecipientState::delivered);
  EXPECT_FALSE(has_inline_body("id-o"));
  EXPECT_EQ(calls_.size(), 1u);
  EXPECT_EQ(event_names("id-o"), (std::vector<std::string>{"delivered", "error", "completed"}));
}

// Deleting needs free pages too (copy-on-write: every leaf it touches is
// copied first, and the copies of leaves that keep records stay). Here the
// records take most of the map and every other one is finished, so one
// transaction for all the finished ones cannot fit, while small ones do.
TEST_F(FullMapTest, TheSweepPurgesInSmallTransactions) {
  auto runner = make_runner({});
  constexpr int kRecords = 900;
  for (int first = 0; first < kRecords; first += 100) {
    ASSERT_FALSE(spool_->store().write([&](QueueWriter& w) -> std::error_code {
      for (int i = first; i < first + 100; ++i) {
        QueueRecord r = testing::sample_record("id-" + std::to_string(1000 + i), 2);
        r.state = i % 2 ? MessageState::queued : MessageState::done;
        r.updated_at = 1;
        if (auto e = w.put(r)) return e;
      }
      return {};
    }));
  }
  runner->sweep_now();
  int left = 0;
  spool_->store().read([&](const QueueView& v) { left = static_cast<int>(v.count()); });
  EXPECT_EQ(left, kRecords / 2);
  EXPECT_EQ(event_names().size(), static_cast<std::size_t>(kRecords / 2)) << "one purged line each, no error";
}

}  // namespace
}  // namespace sluice::storage
