// QueueStore: the LMDB environment under the spool directory: records,
// inline bodies, the retry index, and its errors.
#include "storage/queue_store.hpp"

#include <gtest/gtest.h>
#include <lmdb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/test_support.hpp"

namespace sluice::storage {
namespace {

namespace fs = std::filesystem;
using testing::sample_record;
using testing::TempDir;

std::unique_ptr<QueueStore> open_store(const std::string& dir, QueueStoreOptions o = {}) {
  std::error_code ec;
  std::string text;
  auto s = QueueStore::open(dir, o, ec, text);
  EXPECT_TRUE(s) << text;
  EXPECT_FALSE(ec) << text;
  return s;
}

std::error_code put(QueueStore& s, const QueueRecord& r) {
  return s.write([&](QueueWriter& w) { return w.put(r); });
}

std::optional<QueueRecord> get(const QueueStore& s, const std::string& id) {
  std::optional<QueueRecord> out;
  s.read([&](const QueueView& v) { out = v.record(id); });
  return out;
}

std::vector<std::string> due(const QueueStore& s, std::int64_t now) {
  std::vector<std::string> ids;
  s.read([&](const QueueView& v) {
    v.for_each_due(now, [&](std::string_view id) {
      ids.emplace_back(id);
      return true;
    });
  });
  return ids;
}

TEST(QueueStore, OpenCreatesTheLayout) {
  TempDir t;
  const std::string spool = t.path() + "/spool";
  auto s = open_store(spool);
  ASSERT_TRUE(s);
  EXPECT_TRUE(fs::is_directory(spool + "/queue"));
  EXPECT_TRUE(fs::is_directory(spool + "/bodies"));
  EXPECT_TRUE(fs::exists(spool + "/queue/data.mdb"));
  EXPECT_EQ(s->spool_dir(), spool);
  EXPECT_EQ(s->body_path("abc"), spool + "/bodies/abc");
  s->read([](const QueueView& v) { EXPECT_EQ(v.count(), 0u); });
}

TEST(QueueStore, PutGetAndReopen) {
  TempDir t;
  QueueRecord r = sample_record("1aaaaa-00000000000-0001", 2);
  r.progress[1].state = RecipientState::delivered;
  r.progress[1].route = "archive";
  {
    auto s = open_store(t.path());
    ASSERT_FALSE(put(*s, r));
    auto back = get(*s, r.envelope.id);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->envelope.recipients[1].address, "rcpt1@example.net");
    EXPECT_FALSE(get(*s, "no-such-id").has_value());
  }
  // Committed means on disk: a new environment (as after a restart) sees it.
  auto s = open_store(t.path());
  auto back = get(*s, r.envelope.id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->progress[1].state, RecipientState::delivered);
  EXPECT_EQ(back->progress[1].route, "archive");
  s->read([&](const QueueView& v) {
    auto j = v.record_json(r.envelope.id);
    ASSERT_TRUE(j);
    EXPECT_EQ(*j, to_json(r));
    EXPECT_EQ(v.count(), 1u);
  });
}

TEST(QueueStore, InlineBodiesAreBytesExact) {
  TempDir t;
  auto s = open_store(t.path());
  std::string body = "Subject: x\r\n\r\n..dot\r\n";
  for (int c = 0; c < 256; ++c) body += static_cast<char>(c);  // NULs and 8-bit bytes
  body += std::string(300'000, 'z');
  ASSERT_FALSE(s->write([&](QueueWriter& w) { return w.put_inline_body("id1", body); }));
  s->read([&](const QueueView& v) {
    auto b = v.inline_body("id1");
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, body);
    EXPECT_FALSE(v.inline_body("id2").has_value());
  });
  ASSERT_FALSE(s->write([&](QueueWriter& w) { return w.erase_body("id1"); }));
  ASSERT_FALSE(s->write([&](QueueWriter& w) { return w.erase_body("id1"); })) << "erasing nothing is no error";
  s->read([&](const QueueView& v) { EXPECT_FALSE(v.inline_body("id1").has_value()); });
}

TEST(QueueStore, ForEachWalksInIdOrder) {
  TempDir t;
  auto s = open_store(t.path());
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "1b%04d-00000000000-%04d", 1000 + i * 7, i);
    ids.emplace_back(buf);
  }
  std::vector<std::string> shuffled = ids;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
  ASSERT_FALSE(s->write([&](QueueWriter& w) -> std::error_code {
    for (const auto& id : shuffled)
      if (auto ec = w.put(sample_record(id))) return ec;
    return {};
  }));
  std::vector<std::string> seen;
  s->read([&](const QueueView& v) {
    EXPECT_EQ(v.count(), 50u);
    v.for_each([&](std::string_view id, std::string_view json) {
      EXPECT_NE(json.find(id), std::string_view::npos);
      seen.emplace_back(id);
      return true;
    });
  });
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(seen, ids);
  // Returning false stops the walk.
  int n = 0;
  s->read([&](const QueueView& v) { v.for_each([&](std::string_view, std::string_view) { return ++n < 3; }); });
  EXPECT_EQ(n, 3);
}

TEST(QueueStore, RetryIndexFollowsTheState) {
  TempDir t;
  auto s = open_store(t.path());
  QueueRecord a = sample_record("id-a"), b = sample_record("id-b"), c = sample_record("id-c");
  a.state = MessageState::deferred;
  a.next_retry = 1000;
  b.state = MessageState::deferred;
  b.next_retry = 2000;
  c.state = MessageState::queued;
  c.next_retry = 10;  // not deferred: never in the index, whatever the time says
  for (auto* r : {&a, &b, &c}) ASSERT_FALSE(put(*s, *r));

  EXPECT_TRUE(due(*s, 999).empty());
  EXPECT_EQ(due(*s, 1000), std::vector<std::string>{"id-a"});
  EXPECT_EQ(due(*s, 1999), std::vector<std::string>{"id-a"});
  EXPECT_EQ(due(*s, 2000), (std::vector<std::string>{"id-a", "id-b"}));

  // A later retry time moves it.
  a.next_retry = 5000;
  ASSERT_FALSE(put(*s, a));
  EXPECT_EQ(due(*s, 2000), std::vector<std::string>{"id-b"});

  // Leaving "deferred" takes it out of the index.
  b.state = MessageState::delivering;
  ASSERT_FALSE(put(*s, b));
  EXPECT_TRUE(due(*s, 4000).empty());
  EXPECT_EQ(due(*s, INT64_MAX), std::vector<std::string>{"id-a"});

  // erase_record takes the record and its index entry.
  ASSERT_FALSE(s->write([&](QueueWriter& w) { return w.erase_record("id-a"); }));
  EXPECT_TRUE(due(*s, INT64_MAX).empty());
  EXPECT_FALSE(get(*s, "id-a").has_value());
  EXPECT_TRUE(get(*s, "id-b").has_value());
  ASSERT_FALSE(s->write([&](QueueWriter& w) { return w.erase_record("id-a"); })) << "erasing nothing is no error";
}

TEST(QueueStore, FailedWriteLeavesNothing) {
  TempDir t;
  auto s = open_store(t.path());
  auto ec = s->write([&](QueueWriter& w) -> std::error_code {
    EXPECT_FALSE(w.put(sample_record("id-x")));
    return std::make_error_code(std::errc::io_error);
  });
  EXPECT_EQ(ec, std::errc::io_error);
  EXPECT_FALSE(get(*s, "id-x").has_value());
}

TEST(QueueStore, ReadOnlyOpenOfAMissingSpoolFailsNamingThePath) {
  TempDir t;
  const std::string spool = t.path() + "/nowhere";
  std::error_code ec;
  std::string text;
  QueueStoreOptions o;
  o.read_only = true;
  auto s = QueueStore::open(spool, o, ec, text);
  EXPECT_FALSE(s);
  EXPECT_TRUE(ec);
  EXPECT_NE(text.find(spool + "/queue"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(spool)) << "a read-only open creates nothing";
}

TEST(QueueStore, ReadOnlyOpenSeesTheWritersRecords) {
  TempDir t;
  auto w = open_store(t.path());
  ASSERT_FALSE(put(*w, sample_record("id-1")));
  QueueStoreOptions o;
  o.read_only = true;
  auto r = open_store(t.path(), o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(get(*r, "id-1").has_value());
  // Records committed after the reader opened are visible to its next read.
  ASSERT_FALSE(put(*w, sample_record("id-2")));
  EXPECT_TRUE(get(*r, "id-2").has_value());
  EXPECT_TRUE(r->write([](QueueWriter& wr) { return wr.put(sample_record("id-3")); }))
      << "a read-only store refuses writes";
}

TEST(QueueStore, OpenFailsWhenTheSpoolIsAFile) {
  TempDir t;
  const std::string spool = t.path() + "/file";
  { std::FILE* f = std::fopen(spool.c_str(), "w"); std::fclose(f); }
  std::error_code ec;
  std::string text;
  auto s = QueueStore::open(spool, {}, ec, text);
  EXPECT_FALSE(s);
  EXPECT_TRUE(ec);
  EXPECT_NE(text.find(spool), std::string::npos) << text;
}

TEST(QueueStore, ReaderSlotsOfDeadProcessesAreCleared) {
  TempDir t;
  auto s = open_store(t.path());
  ASSERT_FALSE(put(*s, sample_record("id-1")));
  // A `sluice queue list` killed inside its read transaction.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::error_code ec;
    std::string text;
    QueueStoreOptions o;
    o.read_only = true;
    auto r = QueueStore::open(t.path(), o, ec, text);
    if (r) r->read([](const QueueView&) { ::_exit(0); });
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(s->clear_stale_readers(), 1);
  EXPECT_EQ(s->clear_stale_readers(), 0);
}

TEST(QueueStore, MapFullIsNoSpace) {
  TempDir t;
  QueueStoreOptions o;
  o.map_size = 1 << 20;  // 1 MiB
  auto s = open_store(t.path(), o);
  ASSERT_TRUE(s);
  const std::string chunk(100'000, 'x');
  std::error_code ec;
  int stored = 0;
  for (int i = 0; i < 100 && !ec; ++i) {
    ec = s->write([&](QueueWriter& w) { return w.put_inline_body("body-" + std::to_string(i), chunk); });
    if (!ec) ++stored;
  }
  ASSERT_TRUE(ec) << "a 1 MiB map took 10 MB";
  EXPECT_EQ(ec, std::errc::no_space_on_device) << ec.category().name() << ":" << ec.value() << " " << ec.message();
  EXPECT_GT(stored, 0);
  // The store stays usable: what was committed reads, and room freed is room.
  s->read([&](const QueueView& v) { EXPECT_TRUE(v.inline_body("body-0").has_value()); });
  ASSERT_FALSE(s->write([&](QueueWriter& w) -> std::error_code {
    for (int i = 0; i < stored; ++i)
      if (auto e = w.erase_body("body-" + std::to_string(i))) return e;
    return {};
  }));
  // LMDB reuses pages freed by a transaction only once a later one has
  // committed (no reader can see them then): one small write, then room.
  ASSERT_FALSE(put(*s, sample_record("id-small")));
  ec = s->write([&](QueueWriter& w) { return w.put_inline_body("again", chunk); });
  EXPECT_FALSE(ec) << ec.message();
}

// What an older `sluice queue` did: write into the queue with a map of its
// own size (LMDB's default 4 GiB there). Raw LMDB, as another program.
int write_with_map(const std::string& spool, std::uint64_t map_size, const std::string& key, std::size_t bytes) {
  MDB_env* env = nullptr;
  MDB_txn* txn = nullptr;
  MDB_dbi dbi;
  int rc = ::mdb_env_create(&env);
  if (!rc) rc = ::mdb_env_set_maxdbs(env, 4);
  if (!rc) rc = ::mdb_env_set_mapsize(env, map_size);
  if (!rc) rc = ::mdb_env_open(env, (spool + "/queue").c_str(), MDB_NOTLS, 0640);
  if (!rc) rc = ::mdb_txn_begin(env, nullptr, 0, &txn);
  if (!rc) rc = ::mdb_dbi_open(txn, "bodies", MDB_CREATE, &dbi);
  std::string value(bytes, 'o');
  std::string key_bytes = key;
  MDB_val k{key_bytes.size(), key_bytes.data()}, v{value.size(), value.data()};
  if (!rc) rc = ::mdb_put(txn, dbi, &k, &v, 0);
  if (!rc) rc = ::mdb_txn_commit(txn);
  else if (txn) ::mdb_txn_abort(txn);
  ::mdb_env_close(env);
  return rc;
}

// Inline bodies, ever smaller, until the map takes no more.
void fill_map(QueueStore& s) {
  int n = 0;
  for (std::size_t size : {100'000, 10'000, 1'000, 100}) {
    while (!s.write([&](QueueWriter& w) { return w.put_inline_body("fill-" + std::to_string(n), std::string(size, 'f')); }))
      ++n;
  }
  ASSERT_GT(n, 0);
}

std::uint64_t file_size(const std::string& spool) { return fs::file_size(spool + "/queue/data.mdb"); }

// `sluice queue` (a guest) must never grow the file past the gateway's map:
// the gateway would fail every transaction with MDB_MAP_RESIZED. The size
// LMDB stores in the file is no guide: it is the largest any writer used.
TEST(QueueStore, AGuestNeverGrowsTheFilePastTheOwnersMap) {
  TempDir t;
  fs::create_directories(t.path() + "/queue");
  ASSERT_EQ(write_with_map(t.path(), 4ull << 30, "old", 10), 0);  // stored size: 4 GiB
  QueueStoreOptions owner;
  owner.map_size = 1 << 20;
  {
    auto s = open_store(t.path(), owner);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->map_size_recorded());
    EXPECT_EQ(s->map_size(), 1u << 20);
    fill_map(*s);
  }
  QueueStoreOptions guest;
  guest.role = QueueStoreRole::guest;
  guest.map_size = 0;  // `sluice queue --spool`: no config
  for (bool read_only : {true, false}) {
    guest.read_only = read_only;
    auto g = open_store(t.path(), guest);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->map_size(), 1u << 20) << "read_only " << read_only;
  }
  auto g = open_store(t.path(), guest);
  std::error_code ec = g->write([](QueueWriter& w) { return w.put_inline_body("more", std::string(200'000, 'm')); });
  EXPECT_EQ(ec, std::errc::no_space_on_device) << ec.message();
  EXPECT_LE(file_size(t.path()), 1u << 20);
}

// And should the file outgrow our map all the same (an older `sluice queue`
// writing beside us), every transaction begun after that failed with
// MDB_MAP_RESIZED until a restart. Now the store adopts the larger map, with
// transactions going on in other threads meanwhile.
TEST(QueueStore, AFileGrownPastOurMapIsMappedAgain) {
  TempDir t;
  QueueStoreOptions o;
  o.map_size = 1 << 20;
  auto s = open_store(t.path(), o);
  ASSERT_TRUE(s);
  ASSERT_FALSE(put(*s, sample_record("id-before")));
  fill_map(*s);
  // The other process, forked before our threads start; it writes when told.
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c;
    ::close(go[1]);
    const bool told = ::read(go[0], &c, 1) == 1;
    ::_exit(told && write_with_map(t.path(), 4ull << 30, "grown", 400'000) == 0 ? 0 : 1);
  }
  ::close(go[0]);
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, failures{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i)
    readers.emplace_back([&] {
      while (!stop) {
        bool seen = false;
        if (s->read([&](const QueueView& v) { seen = v.record("id-before").has_value(); }) || !seen) ++failures;
        ++reads;
      }
    });
  ASSERT_EQ(::write(go[1], "x", 1), 1);
  ::close(go[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::uint64_t grown = file_size(t.path());
  EXPECT_GT(grown, 1u << 20);
  const int reads_before = reads;
  while (reads < reads_before + 100) std::this_thread::yield();
  EXPECT_FALSE(put(*s, sample_record("id-after")));
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures, 0);
  EXPECT_TRUE(get(*s, "id-after").has_value());
  EXPECT_GE(s->map_size(), grown);
}

}  // namespace
}  // namespace sluice::storage
