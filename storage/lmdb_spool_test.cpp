// LmdbSpool: the durable spool behind the 250: inline and spilled bodies,
// abandoned writers, start-up recovery, and a full disk.
#include "storage/lmdb_spool.hpp"

#include <gtest/gtest.h>
#include <lmdb.h>
#include <sys/mount.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "storage/map_headroom.hpp"
#include "storage/test_support.hpp"

namespace sluice::storage {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using testing::sample_record;
using testing::TempDir;

// Appends in 64 KiB pieces, as the session does, then commits.
asio::awaitable<std::error_code> write_message(MessageWriter& w, const std::string& data, const Envelope& e) {
  for (std::size_t off = 0; off < data.size(); off += 64 * 1024) {
    const std::string_view piece = std::string_view(data).substr(off, 64 * 1024);
    std::error_code ec = co_await w.append(piece);
    if (ec) co_return ec;
  }
  std::error_code ec = co_await w.commit(e);
  co_return ec;
}

asio::awaitable<std::error_code> append_only(MessageWriter& w, const std::string& data) {
  std::error_code ec = co_await w.append(data);
  co_return ec;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string message_bytes(std::size_t n, char seed = 'a') {
  std::string s = "Received: from test\r\nSubject: t\r\n\r\n";
  while (s.size() < n) s += static_cast<char>(seed + s.size() % 23);
  s.resize(n);
  return s;
}

// Waits (bounded) for jobs posted to the blocking pool to have run.
template <typename Pred>
bool eventually(Pred p) {
  for (int i = 0; i < 500; ++i) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return p();
}

// Puts `json` as the record of `id` with LMDB itself, as no QueueWriter
// would write an unreadable record. The spool must be closed.
int put_raw_record(const std::string& spool, std::string id, std::string json) {
  MDB_env* env = nullptr;
  MDB_txn* txn = nullptr;
  MDB_dbi dbi;
  int rc = ::mdb_env_create(&env);
  if (!rc) rc = ::mdb_env_set_maxdbs(env, 4);
  if (!rc) rc = ::mdb_env_open(env, (spool + "/queue").c_str(), 0, 0640);
  if (!rc) rc = ::mdb_txn_begin(env, nullptr, 0, &txn);
  if (!rc) rc = ::mdb_dbi_open(txn, "messages", 0, &dbi);
  MDB_val k{id.size(), id.data()}, v{json.size(), json.data()};
  if (!rc) rc = ::mdb_put(txn, dbi, &k, &v, 0);
  if (!rc) rc = ::mdb_txn_commit(txn);
  else if (txn) ::mdb_txn_abort(txn);
  ::mdb_env_close(env);
  return rc;
}

class LmdbSpoolTest : public ::testing::Test {
 protected:
  LmdbSpoolOptions options(const std::string& dir) {
    LmdbSpoolOptions o;
    o.directory = dir;
    o.map_size = 64ull << 20;
    o.inline_max = 16 * 1024;
    return o;
  }
  std::error_code commit(LmdbSpool& spool, const std::string& id, const std::string& data) {
    Envelope e = sample_record(id, 2).envelope;
    e.size = data.size();
    auto w = spool.begin(id);
    return testing::run_on<std::error_code>(io_, [&] { return write_message(*w, data, e); });
  }
  std::optional<QueueRecord> record(LmdbSpool& spool, const std::string& id) {
    std::optional<QueueRecord> r;
    spool.store().read([&](const QueueView& v) { r = v.record(id); });
    return r;
  }

  TempDir tmp_;
  asio::io_context io_;
  BlockingPool pool_{2};
};

TEST_F(LmdbSpoolTest, SmallMessageIsInline) {
  LmdbSpool spool(options(tmp_.path()), pool_);
  std::vector<std::string> heard;
  spool.set_on_committed([&](const std::string& id) { heard.push_back(id); });
  std::string data = message_bytes(5000);
  data[100] = '\0';
  data[101] = '\xff';
  ASSERT_FALSE(commit(spool, "id-small", data));
  EXPECT_EQ(heard, std::vector<std::string>{"id-small"});
  auto r = record(spool, "id-small");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, BodyPlace::inline_value);
  EXPECT_EQ(r->state, MessageState::queued);
  ASSERT_EQ(r->progress.size(), 2u);
  EXPECT_EQ(r->progress[0].state, RecipientState::pending);
  EXPECT_GT(r->updated_at, 0);
  spool.store().read([&](const QueueView& v) {
    auto b = v.inline_body("id-small");
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, data);
  });
  EXPECT_FALSE(fs::exists(spool.store().body_path("id-small")));
  EXPECT_EQ(spool.kind(), "lmdb");
  EXPECT_TRUE(spool.writable());
}

TEST_F(LmdbSpoolTest, MessageAtInlineMaxStaysInline) {
  LmdbSpool spool(options(tmp_.path()), pool_);
  ASSERT_FALSE(commit(spool, "id-edge", message_bytes(16 * 1024)));
  EXPECT_EQ(record(spool, "id-edge")->body, BodyPlace::inline_value);
  ASSERT_FALSE(commit(spool, "id-edge2", message_bytes(16 * 1024 + 1)));
  EXPECT_EQ(record(spool, "id-edge2")->body, BodyPlace::file);
}

TEST_F(LmdbSpoolTest, LargeMessageGoesToABodyFile) {
  LmdbSpool spool(options(tmp_.path()), pool_);
  const std::string data = message_bytes(700 * 1024 + 17, 'A');
  ASSERT_FALSE(commit(spool, "id-big", data));
  auto r = record(spool, "id-big");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, BodyPlace::file);
  EXPECT_EQ(read_file(tmp_.path() + "/bodies/id-big"), data);
  spool.store().read([&](const QueueView& v) { EXPECT_FALSE(v.inline_body("id-big").has_value()); });
}

TEST_F(LmdbSpoolTest, AbandonedWriterLeavesNoFile) {
  LmdbSpool spool(options(tmp_.path()), pool_);
  const std::string path = spool.store().body_path("id-gone");
  {
    auto w = spool.begin("id-gone");
    const std::string data = message_bytes(300 * 1024);
    ASSERT_FALSE(testing::run_on<std::error_code>(io_, [&] { return append_only(*w, data); }));
    ASSERT_TRUE(fs::exists(path)) << "the spill file exists while receiving (else this test proves nothing)";
  }
  EXPECT_TRUE(eventually([&] { return !fs::exists(path); }));
  EXPECT_FALSE(record(spool, "id-gone").has_value());
  // An abandoned small message never touched the disk at all.
  {
    auto w = spool.begin("id-small");
    const std::string data = message_bytes(100);
    ASSERT_FALSE(testing::run_on<std::error_code>(io_, [&] { return append_only(*w, data); }));
  }
  EXPECT_TRUE(fs::is_empty(tmp_.path() + "/bodies"));
}

TEST_F(LmdbSpoolTest, CommittedFileSurvivesTheWritersEnd) {
  LmdbSpool spool(options(tmp_.path()), pool_);
  ASSERT_FALSE(commit(spool, "id-keep", message_bytes(200 * 1024)));
  pool_.post([] {});  // a destroyed committed writer must not remove its file
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(fs::exists(spool.store().body_path("id-keep")));
}

TEST_F(LmdbSpoolTest, RecoveryRemovesOrphansAndRequeuesInterruptedDeliveries) {
  const std::string dir = tmp_.path();
  {
    LmdbSpool spool(options(dir), pool_);
    ASSERT_FALSE(commit(spool, "id-1", message_bytes(100)));
    ASSERT_FALSE(commit(spool, "id-2", message_bytes(100 * 1024)));  // file
    ASSERT_FALSE(commit(spool, "id-3", message_bytes(100 * 1024)));  // file, then marked delivering
    ASSERT_FALSE(commit(spool, "id-4", message_bytes(200)));         // marked delivering
    ASSERT_FALSE(spool.store().write([](QueueWriter& w) -> std::error_code {
      for (const char* id : {"id-3", "id-4"}) {
        auto r = w.record(id);
        if (!r) return std::make_error_code(std::errc::no_such_file_or_directory);
        r->state = MessageState::delivering;
        if (auto e = w.put(*r)) return e;
      }
      QueueRecord lost = sample_record("id-5");  // names a file that is not there
      lost.body = BodyPlace::file;
      return w.put(lost);
    }));
  }
  // Half-received messages of a crashed process.
  for (const char* orphan : {"orphan-1", "orphan-2"}) std::ofstream(dir + "/bodies/" + orphan) << "partial";
  SpoolRecovery r;
  auto spool = std::make_unique<LmdbSpool>(options(dir), pool_, &r);
  EXPECT_EQ(r.queued, 5u);
  EXPECT_EQ(r.removed_orphan_bodies, 2u);
  EXPECT_EQ(r.requeued_delivering, 2u);
  EXPECT_EQ(r.missing_bodies, 1u);
  EXPECT_FALSE(fs::exists(dir + "/bodies/orphan-1"));
  EXPECT_FALSE(fs::exists(dir + "/bodies/orphan-2"));
  EXPECT_TRUE(fs::exists(dir + "/bodies/id-2"));
  EXPECT_TRUE(fs::exists(dir + "/bodies/id-3"));
  EXPECT_EQ(record(*spool, "id-3")->state, MessageState::queued);
  EXPECT_EQ(record(*spool, "id-4")->state, MessageState::queued);
  EXPECT_EQ(record(*spool, "id-1")->state, MessageState::queued);
  // A second start finds nothing more to do.
  spool.reset();
  SpoolRecovery again;
  spool = std::make_unique<LmdbSpool>(options(dir), pool_, &again);
  EXPECT_EQ(again.queued, 5u);
  EXPECT_EQ(again.removed_orphan_bodies, 0u);
  EXPECT_EQ(again.requeued_delivering, 0u);
}

// New mail stops at the high-water mark (storage/map_headroom.hpp) and
// leaves the rest of the map for what lets mail leave: state changes and
// deletes. Before, it filled the map to its last page.
TEST_F(LmdbSpoolTest, NewMailStopsShortOfAFullMap) {
  LmdbSpoolOptions o = options(tmp_.path());
  o.map_size = 1 << 20;
  LmdbSpool spool(o, pool_);
  std::error_code ec;
  int n = 0;
  for (std::size_t size : {12'000, 1'000, 100})
    while (!(ec = commit(spool, "id-" + std::to_string(n), message_bytes(size)))) ++n;
  EXPECT_EQ(ec, std::errc::no_space_on_device) << ec.message();
  EXPECT_NE(ec.message().find("high-water"), std::string::npos) << ec.message();
  std::uint64_t in_use = 0;
  ASSERT_FALSE(spool.store().write([&](QueueWriter& w) {
    in_use = w.map_in_use();
    return std::error_code{};
  }));
  // About the mark: a message is admitted by its bytes, and its pages come
  // to a little more.
  EXPECT_LT(in_use, (kMapHighWater + 0.03) * (1 << 20));
  // Every message can still change state, and be deleted.
  for (int i = 0; i < n; ++i) {
    ASSERT_FALSE(spool.store().write([&](QueueWriter& w) -> std::error_code {
      auto r = w.record("id-" + std::to_string(i));
      r->state = MessageState::delivering;
      return w.put(*r);
    })) << i;
  }
  ASSERT_FALSE(spool.store().write([&](QueueWriter& w) -> std::error_code {
    for (int i = 0; i < n; ++i) {
      if (auto e = w.erase_body("id-" + std::to_string(i))) return e;
      if (auto e = w.erase_record("id-" + std::to_string(i))) return e;
    }
    return {};
  }));
  // And the room comes back to new mail (once one more commit has passed:
  // LMDB reuses freed pages from the next transaction but one).
  ASSERT_FALSE(spool.store().write([](QueueWriter& w) { return w.put(sample_record("id-between")); }));
  EXPECT_FALSE(commit(spool, "id-again", message_bytes(12'000)));
}

// A record that does not parse (a damaged value, a format from a newer
// version) is still a committed message: recovery used to leave it out of
// the records that name body files, and removed its file as an orphan.
TEST_F(LmdbSpoolTest, RecoveryKeepsTheBodyOfARecordItCannotRead) {
  const std::string dir = tmp_.path();
  { LmdbSpool spool(options(dir), pool_); }
  ASSERT_EQ(put_raw_record(dir, "id-unreadable", "{\"id\":\"id-unreadable\",\"state\":"), 0);
  std::ofstream(dir + "/bodies/id-unreadable") << "the only copy of a committed message";
  std::ofstream(dir + "/bodies/id-nobody") << "half-received";
  SpoolRecovery r;
  LmdbSpool spool(options(dir), pool_, &r);
  EXPECT_TRUE(fs::exists(dir + "/bodies/id-unreadable"));
  EXPECT_EQ(r.unreadable_records, std::vector<std::string>{"id-unreadable"});
  EXPECT_FALSE(fs::exists(dir + "/bodies/id-nobody"));
  EXPECT_EQ(r.removed_orphan_bodies, 1u);
  EXPECT_EQ(r.missing_bodies, 0u);
}

TEST_F(LmdbSpoolTest, OpenFailureNamesThePath) {
  const std::string file = tmp_.path() + "/not-a-dir";
  std::ofstream(file) << "x";
  try {
    LmdbSpool spool(options(file), pool_);
    FAIL() << "opened a spool in a file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
  }
}

// A tmpfs of a few MiB, mounted for one test (needs root; skipped otherwise).
class SmallTmpfs {
 public:
  SmallTmpfs(const std::string& dir, const char* size) : dir_(dir) {
    fs::create_directories(dir);
    const std::string opts = std::string("size=") + size;
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0) mounted_ = true;
    else why_ = std::strerror(errno);
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string why_;
};

TEST_F(LmdbSpoolTest, FullDiskIsNoSpaceAndTheSpoolRecovers) {
  const std::string dir = tmp_.path() + "/small";
  SmallTmpfs mount(dir, "4m");
  if (!mount.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << mount.why() << "): needs root";
  const std::string spool_dir = dir + "/spool";
  const std::string ballast = dir + "/ballast";
  {
    LmdbSpool spool(options(spool_dir), pool_);
    ASSERT_FALSE(commit(spool, "id-first", message_bytes(1000)));
    std::ofstream(ballast, std::ios::binary) << std::string(2 << 20, 'b');

    // A body file that does not fit.
    std::error_code ec = commit(spool, "id-huge", message_bytes(3 << 20));
    EXPECT_EQ(ec, std::errc::no_space_on_device) << ec.category().name() << " " << ec.message();
    EXPECT_FALSE(record(spool, "id-huge").has_value());
    EXPECT_TRUE(eventually([&] { return !fs::exists(spool.store().body_path("id-huge")); }))
        << "the failed message's file is removed";

    // Inline bodies until the database itself cannot grow.
    int stored = 0;
    ec.clear();
    for (int i = 0; i < 400 && !ec; ++i) {
      ec = commit(spool, "id-in-" + std::to_string(1000 + i), message_bytes(15 * 1024));
      if (!ec) ++stored;
    }
    ASSERT_TRUE(ec) << "4 MiB held " << stored << " messages of 15 KiB";
    EXPECT_EQ(ec, std::errc::no_space_on_device) << ec.category().name() << " " << ec.message();

    // Still readable, nothing half there.
    spool.store().read([&](const QueueView& v) {
      EXPECT_EQ(v.count(), static_cast<std::uint64_t>(stored + 1));
      EXPECT_TRUE(v.inline_body("id-first").has_value());
    });

    // Room again: the same spool accepts.
    fs::remove(ballast);
    EXPECT_FALSE(commit(spool, "id-after", message_bytes(15 * 1024)));
    EXPECT_FALSE(commit(spool, "id-after-big", message_bytes(500 * 1024)));
    EXPECT_EQ(read_file(spool.store().body_path("id-after-big")), message_bytes(500 * 1024));
  }
  // And a restart recovers it.
  SpoolRecovery r;
  LmdbSpool spool(options(spool_dir), pool_, &r);
  EXPECT_EQ(r.missing_bodies, 0u);
  EXPECT_TRUE(record(spool, "id-after").has_value());
}

TEST(DiscardSpool, SaysYesToEverything) {
  auto s = make_discard_spool();
  EXPECT_EQ(s->kind(), "discard");
  EXPECT_TRUE(s->writable());
  asio::io_context io;
  auto w = s->begin("x");
  Envelope e;
  const std::string data = "abc";
  EXPECT_FALSE(testing::run_on<std::error_code>(io, [&] { return write_message(*w, data, e); }));
}

}  // namespace
}  // namespace sluice::storage
