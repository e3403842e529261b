// Exim message ids for the queuefile export: the two shapes, and the 4.96
// generator's uniqueness rules (start second skipped, sequence, pid field,
// waiting when a second is used up, threads).
#include "storage/exim_id.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "storage/message_id.hpp"

namespace sluice::storage {
namespace {

unsigned long long from_base62(std::string_view s) {
  unsigned long long v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : c - 'a' + 36;
    v = v * 62 + static_cast<unsigned>(d);
  }
  return v;
}

TEST(EximId, ParsesTheConfigValues) {
  EXPECT_EQ(parse_exim_id_format("4.97"), EximIdFormat::v4_97);
  EXPECT_EQ(parse_exim_id_format("4.96"), EximIdFormat::v4_96);
  EXPECT_FALSE(parse_exim_id_format("4.95"));
  EXPECT_FALSE(parse_exim_id_format(""));
  EXPECT_EQ(to_string(EximIdFormat::v4_96), "4.96");
}

TEST(EximId, ShapesOfBothVersions) {
  EXPECT_TRUE(is_valid_exim_id("1xUx6q-0003OC-2d", EximIdFormat::v4_96));
  EXPECT_FALSE(is_valid_exim_id("1xUx6q-0003OC-2d", EximIdFormat::v4_97));
  EXPECT_TRUE(is_valid_exim_id("16VDhn-000000001bo-D342", EximIdFormat::v4_97));
  EXPECT_FALSE(is_valid_exim_id("16VDhn-000000001bo-D342", EximIdFormat::v4_96));
  EXPECT_FALSE(is_valid_exim_id("1xUx6q-0003OC_2d", EximIdFormat::v4_96));
  EXPECT_FALSE(is_valid_exim_id("1xUx6q-0003OC-2", EximIdFormat::v4_96));
  EXPECT_FALSE(is_valid_exim_id("1xUx6q-0003O.-2d", EximIdFormat::v4_96));
  // Sluice's own ids are valid 4.97 ids: they are exported unchanged.
  EXPECT_TRUE(is_valid_exim_id(make_message_id(), EximIdFormat::v4_97));
}

struct FakeClock {
  std::int64_t now = 1700000000;
  std::vector<std::int64_t> slept_until;
};

Exim496IdGenerator make_generator(FakeClock& c, unsigned long pid) {
  return Exim496IdGenerator(
      pid, [&c] { return c.now; },
      [&c](std::int64_t until) {
        c.slept_until.push_back(until);
        c.now = until;
      });
}

TEST(EximId, NeverUsesTheSecondTheProcessStartedIn) {
  FakeClock clock;
  auto gen = make_generator(clock, 12345);
  const std::string id = gen.next();
  ASSERT_TRUE(is_valid_exim_id(id, EximIdFormat::v4_96)) << id;
  EXPECT_EQ(from_base62(id.substr(0, 6)), 1700000001u) << "a predecessor with this pid may have used the start second";
  EXPECT_EQ(clock.slept_until, std::vector<std::int64_t>{1700000001});
}

TEST(EximId, SequenceAndPidFields) {
  FakeClock clock;
  auto gen = make_generator(clock, 12345);
  clock.now += 5;
  const std::string a = gen.next(), b = gen.next();
  EXPECT_EQ(a.substr(0, 6), b.substr(0, 6));
  EXPECT_EQ(from_base62(a.substr(7, 6)), 12345u * Exim496IdGenerator::kPerPid);
  EXPECT_EQ(from_base62(a.substr(14, 2)), 0u);
  EXPECT_EQ(from_base62(b.substr(14, 2)), 1u);
  EXPECT_TRUE(clock.slept_until.empty());
  // The largest Linux pid still fits the 6-digit field.
  FakeClock c2;
  auto big = make_generator(c2, (1ul << 22) - 1);
  c2.now += 1;
  EXPECT_TRUE(is_valid_exim_id(big.next(), EximIdFormat::v4_96));
}

TEST(EximId, AClockThatStepsBackDoesNotReopenASecond) {
  FakeClock clock;
  auto gen = make_generator(clock, 7);
  clock.now += 10;
  const std::string a = gen.next();
  clock.now -= 3;
  const std::string b = gen.next();
  EXPECT_EQ(a.substr(0, 6), b.substr(0, 6));
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
}

TEST(EximId, ProcessWideGeneratorIsUniqueAcrossThreads) {
  std::mutex m;
  std::set<std::string> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < 20000; ++i) mine.push_back(make_exim_496_id());
      std::lock_guard lock(m);
      ids.insert(mine.begin(), mine.end());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ids.size(), 80000u);
  for (const auto& id : ids) ASSERT_TRUE(is_valid_exim_id(id, EximIdFormat::v4_96)) << id;
}

}  // namespace
}  // namespace sluice::storage
