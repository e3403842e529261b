// Queue ids: Exim 4.97 shape (23 characters of base 62 and two dashes),
// uniqueness under concurrent use, and order within one process.
#include "storage/message_id.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

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

TEST(MessageId, ShapeIsExim497) {
  const std::string id = make_message_id();
  ASSERT_EQ(id.size(), 23u) << id;
  EXPECT_EQ(id[6], '-');
  EXPECT_EQ(id[18], '-');
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 6 || i == 18) continue;
    const char c = id[i];
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) << id;
  }
  EXPECT_TRUE(is_valid_message_id(id));
}

TEST(MessageId, StartsWithTheTime) {
  const auto before = static_cast<unsigned long long>(std::time(nullptr));
  const std::string id = make_message_id();
  const auto after = static_cast<unsigned long long>(std::time(nullptr));
  const unsigned long long t = from_base62(id.substr(0, 6));
  EXPECT_GE(t, before) << id;
  EXPECT_LE(t, after) << id;
}

TEST(MessageId, InstanceTagIsFixedPerProcessAndCarriesThePid) {
  const std::string a = make_message_id(), b = make_message_id();
  EXPECT_EQ(a.substr(7, 11), b.substr(7, 11));
  const unsigned long long tag = from_base62(a.substr(7, 11));
  EXPECT_EQ(tag & 0x3fffff, static_cast<unsigned long long>(::getpid()) & 0x3fffff);
  EXPECT_LT(tag, 1ull << 62);  // 40 random bits above 22 bits of pid
}

TEST(MessageId, SequentialIdsSortInCreationOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20000; ++i) ids.push_back(make_message_id());
  for (std::size_t i = 1; i < ids.size(); ++i) ASSERT_LT(ids[i - 1], ids[i]) << "at " << i;
}

TEST(MessageId, UniqueAcrossThreadsAndEachThreadSorted) {
  constexpr int kThreads = 8, kPerThread = 50000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      made[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) made[t].push_back(make_message_id());
    });
  }
  for (auto& th : threads) th.join();
  std::unordered_set<std::string> all;
  all.reserve(kThreads * kPerThread);
  for (const auto& v : made) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    for (const auto& id : v) all.insert(id);
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(MessageId, Validation) {
  EXPECT_TRUE(is_valid_message_id("1wXyZa-000000000AB-0001"));
  EXPECT_TRUE(is_valid_message_id("zzzzzz-zzzzzzzzzzz-zzzz"));
  for (std::string_view bad : {"", "1wXyZa-000000000AB-000", "1wXyZa-000000000AB-00011",
                               "1wXyZa_000000000AB-0001", "1wXyZa-000000000AB_0001", "1wXyZ-a000000000AB-0001",
                               "1wXyZa-000000000AB-00+1", "1wXyZa-0000/0000AB-0001", "1wXyZa-000000000AB-00 1",
                               "../../etc/passwd-xxxxx", "1wXyZa-000000000AB-000\n"}) {
    EXPECT_FALSE(is_valid_message_id(bad)) << bad;
  }
  EXPECT_FALSE(is_valid_message_id(std::string_view("1wXyZa-000000000AB-000\0", 23)));
}

}  // namespace
}  // namespace sluice::storage
