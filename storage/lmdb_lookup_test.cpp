// LmdbLookup and LmdbLookupCache against real files built by mdb_load.
#include "storage/lmdb_lookup.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "storage/lmdb_lookup_cache.hpp"
#include "storage/lmdb_test_support.hpp"

namespace sluice::storage {
namespace {

using namespace std::chrono_literals;
using testing::build_lmdb;
using testing::Pairs;
using testing::replace_lmdb;
using testing::ScratchDir;
using testing::write_file;
using Status = LookupResult::Status;

constexpr std::chrono::milliseconds kEveryLookup{0};

Pairs many_pairs(int n, const std::string& value) {
  Pairs p;
  for (int i = 0; i < n; ++i) p.emplace_back("host" + std::to_string(i) + ".example", value);
  return p;
}

TEST(LmdbLookup, FindsExactKeysAndTheirValues) {
  ScratchDir dir;
  const auto path = dir.file("domains.mdb");
  ASSERT_TRUE(build_lmdb(path, {{"example.org", "local"}, {"partner.example", "relay via 192.0.2.1"}}));
  LmdbLookup l(path);
  auto r = l.find("partner.example");
  EXPECT_EQ(r.status, Status::found);
  EXPECT_EQ(r.value, "relay via 192.0.2.1");
  EXPECT_EQ(l.find("example.org").value, "local");
  EXPECT_EQ(l.find("Example.org").status, Status::not_found);  // exact bytes: callers lower-case
  EXPECT_EQ(l.find("org").status, Status::not_found);
  EXPECT_EQ(l.find("").status, Status::not_found);
  EXPECT_EQ(l.find(std::string(600, 'a')).status, Status::not_found);  // longer than LMDB's key limit
  EXPECT_FALSE(std::filesystem::exists(path + "-lock")) << "MDB_NOLOCK: no lock file is made";
  EXPECT_EQ(l.check_now(), std::nullopt);
}

TEST(LmdbLookup, ReadsAnEnvironmentDirectory) {
  ScratchDir dir;
  const auto path = dir.file("envdir");
  ASSERT_TRUE(build_lmdb(path, {{"192.0.2.7", "yes"}}, false));
  ASSERT_TRUE(std::filesystem::exists(path + "/data.mdb"));
  std::filesystem::remove(path + "/lock.mdb");
  LmdbLookup l(path);
  EXPECT_EQ(l.find("192.0.2.7").status, Status::found);
  EXPECT_EQ(l.find("192.0.2.8").status, Status::not_found);
}

TEST(LmdbLookup, MissingFileDefersAndRecoversWhenItComesBack) {
  ScratchDir dir;
  const auto path = dir.file("later.mdb");
  LmdbLookup l(path, kEveryLookup);
  auto r = l.find("example.org");
  EXPECT_EQ(r.status, Status::defer);
  EXPECT_NE(r.value.find("No such file"), std::string::npos) << r.value;
  ASSERT_TRUE(build_lmdb(path, {{"example.org", "1"}}));
  EXPECT_EQ(l.find("example.org").status, Status::found);
  std::filesystem::remove(path);
  EXPECT_EQ(l.find("example.org").status, Status::defer) << "never answers from a file that is gone";
  ASSERT_TRUE(build_lmdb(path, {{"example.org", "2"}}));
  EXPECT_EQ(l.find("example.org").value, "2");
}

TEST(LmdbLookup, CorruptFilesDeferWithAReason) {
  ScratchDir dir;
  const auto garbage = dir.file("garbage.mdb");
  write_file(garbage, std::string(16384, 'x'));
  auto r = LmdbLookup(garbage).find("k");
  EXPECT_EQ(r.status, Status::defer);
  EXPECT_NE(r.value.find("not a usable LMDB file"), std::string::npos) << r.value;

  const auto empty = dir.file("empty.mdb");
  write_file(empty, "");
  r = LmdbLookup(empty).find("k");
  EXPECT_EQ(r.status, Status::defer);
  EXPECT_NE(r.value.find("empty"), std::string::npos) << r.value;

  // A copy cut short (say, a full disk) and renamed into place: its header
  // names pages it does not have, which would fault if we mapped them.
  const auto whole = dir.file("whole.mdb");
  ASSERT_TRUE(build_lmdb(whole, many_pairs(3000, "some value")));
  std::string bytes;
  {
    std::ifstream f(whole, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  ASSERT_GT(bytes.size(), 3 * 4096u);
  const auto cut = dir.file("cut.mdb");
  write_file(cut, bytes.substr(0, bytes.size() / 2));
  LmdbLookup truncated(cut);
  auto problem = truncated.check_now();
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("truncated"), std::string::npos) << *problem;
  EXPECT_EQ(truncated.find("host1.example").status, Status::defer);
  EXPECT_EQ(LmdbLookup(whole).find("host2999.example").value, "some value");
}

TEST(LmdbLookup, NoticesAReplacementByRenameAtTheNextCheck) {
  ScratchDir dir;
  const auto path = dir.file("relay.mdb");
  ASSERT_TRUE(build_lmdb(path, {{"old.example", "1"}}));

  LmdbLookup every(path, kEveryLookup);
  LmdbLookup hourly(path, std::chrono::hours(1));
  EXPECT_EQ(every.find("old.example").status, Status::found);
  EXPECT_EQ(hourly.find("old.example").status, Status::found);

  ASSERT_TRUE(replace_lmdb(path, {{"new.example", "2"}}));
  EXPECT_EQ(every.find("old.example").status, Status::not_found);
  EXPECT_EQ(every.find("new.example").value, "2");
  // Within its interval the other one has not looked yet: still the old file
  // (still mapped and valid, though its name is gone) ...
  EXPECT_EQ(hourly.find("old.example").status, Status::found);
  // ... until it checks.
  EXPECT_EQ(hourly.check_now(), std::nullopt);
  EXPECT_EQ(hourly.find("new.example").status, Status::found);
  EXPECT_EQ(hourly.find("old.example").status, Status::not_found);

  // A shorter interval set later applies from now on.
  ASSERT_TRUE(replace_lmdb(path, {{"third.example", "3"}}));
  hourly.set_recheck_interval(kEveryLookup);
  EXPECT_EQ(hourly.find("third.example").status, Status::found);
}

TEST(LmdbLookup, IntervalBoundsHowOftenTheFileIsChecked) {
  ScratchDir dir;
  const auto path = dir.file("relay.mdb");
  ASSERT_TRUE(build_lmdb(path, {{"a.example", "1"}}));
  LmdbLookup l(path, 200ms);
  EXPECT_EQ(l.find("a.example").status, Status::found);
  std::filesystem::remove(path);
  EXPECT_EQ(l.find("a.example").status, Status::found) << "checked less than 200 ms ago";
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(l.find("a.example").status, Status::defer);
}

// Many threads look up while the file is replaced under them: every answer
// comes from one whole file or the other, and an old env is closed only
// when its last reader is done (ASan builds would see a use after close).
TEST(LmdbLookup, ConcurrentLookupsDuringReplacements) {
  ScratchDir dir;
  const auto path = dir.file("busy.mdb");
  ASSERT_TRUE(build_lmdb(path, many_pairs(200, "v0")));
  LmdbLookup l(path, kEveryLookup);
  std::atomic<bool> stop{false};
  std::atomic<long> found{0}, bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t)
    readers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        auto r = l.find("host" + std::to_string((i * 7 + t) % 200) + ".example");
        if (r.status == Status::found && (r.value == "v0" || r.value == "v1" || r.value == "v2")) ++found;
        else ++bad;
      }
    });
  for (int round = 1; round <= 6; ++round) ASSERT_TRUE(replace_lmdb(path, many_pairs(200, "v" + std::to_string(round % 3))));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(found.load(), 0);
  EXPECT_EQ(bad.load(), 0);
}

// Not a benchmark suite, a measurement to choose the recheck default by
// (docs/storage.md): what a lookup costs, and what one stat() adds.
TEST(LmdbLookup, CostOfALookupAndOfAStat) {
  ScratchDir dir;
  const auto path = dir.file("cost.mdb");
  ASSERT_TRUE(build_lmdb(path, many_pairs(10000, "relay")));
  constexpr int kRounds = 100000;
  auto per_op_ns = [](auto&& body) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRounds; ++i) body(i);
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / kRounds;
  };
  LmdbLookup interval(path);
  LmdbLookup every(path, kEveryLookup);
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back("host" + std::to_string(i * 10) + ".example");
  long hits = 0;
  const double cached = per_op_ns([&](int i) { hits += interval.find(keys[i % 1000]).is_found(); });
  const double checked = per_op_ns([&](int i) { hits += every.find(keys[i % 1000]).is_found(); });
  struct stat st;
  const double stat_only = per_op_ns([&](int) { hits += ::stat(path.c_str(), &st) == 0; });
  EXPECT_EQ(hits, 3L * kRounds);
  std::printf("lookup with 1 s recheck: %.0f ns; with stat() each time: %.0f ns; stat() alone: %.0f ns\n", cached,
              checked, stat_only);
  RecordProperty("lookup_ns", static_cast<int>(cached));
  RecordProperty("lookup_with_stat_ns", static_cast<int>(checked));
}

TEST(LmdbLookupCache, SharesOneLookupPerPathWhileAnyoneHoldsIt) {
  ScratchDir dir;
  LmdbLookupCache cache;
  auto a = cache.get(dir.file("a.mdb"));
  auto a2 = cache.get(dir.file("a.mdb"), kEveryLookup);
  auto b = cache.get(dir.file("b.mdb"));
  EXPECT_EQ(a, a2);
  EXPECT_NE(a, b);
  EXPECT_EQ(cache.size(), 2u);
  a.reset();
  a2.reset();
  EXPECT_EQ(cache.size(), 1u) << "a file no list names is closed and forgotten";
  auto again = cache.get(dir.file("a.mdb"));
  EXPECT_EQ(cache.size(), 2u);
}

}  // namespace
}  // namespace sluice::storage
