#include "filters/dns_cache.hpp"

#include <gtest/gtest.h>

#include "filters/dns_reply.hpp"

namespace sluice::filters {
namespace {

using namespace std::chrono_literals;
const DnsCache::Clock::time_point t0{};

DnsAnswer answer(DnsStatus status, std::uint32_t ttl, const char* ip = "192.0.2.1") {
  DnsAnswer a;
  a.status = status;
  a.ttl = ttl;
  if (status == DnsStatus::ok) a.addresses.push_back(*gateway::parse_ip(ip));
  return a;
}

TEST(DnsCache, HitWithinTtlWithTheTtlLeft) {
  DnsCache c(10);
  c.store("a.example.test", DnsType::A, answer(DnsStatus::ok, 60), t0);
  auto hit = c.find("A.EXAMPLE.test.", DnsType::A, t0 + 20s);
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->from_cache);
  EXPECT_EQ(hit->ttl, 40u);
  EXPECT_EQ(hit->addresses.size(), 1u);
  EXPECT_FALSE(c.find("a.example.test", DnsType::AAAA, t0 + 20s));  // type is part of the key
  EXPECT_EQ(c.stats().hits.load(), 1u);
  EXPECT_EQ(c.stats().misses.load(), 1u);
}

TEST(DnsCache, ExpiresAtItsTtl) {
  DnsCache c(10);
  c.store("a.example.test", DnsType::A, answer(DnsStatus::ok, 60), t0);
  EXPECT_TRUE(c.find("a.example.test", DnsType::A, t0 + 59s));
  EXPECT_FALSE(c.find("a.example.test", DnsType::A, t0 + 60s));
  EXPECT_EQ(c.size(), 0u);  // the expired entry is gone, not just hidden
}

TEST(DnsCache, NegativeAnswersAreKeptFailuresAndZeroTtlAreNot) {
  DnsCache c(10);
  c.store("nx.example.test", DnsType::A, answer(DnsStatus::nxdomain, 5), t0);
  c.store("nd.example.test", DnsType::MX, answer(DnsStatus::nodata, 5), t0);
  c.store("sf.example.test", DnsType::A, answer(DnsStatus::servfail, 5), t0);
  c.store("to.example.test", DnsType::A, answer(DnsStatus::timeout, 5), t0);
  c.store("zero.example.test", DnsType::A, answer(DnsStatus::ok, 0), t0);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.find("nx.example.test", DnsType::A, t0 + 4s)->status, DnsStatus::nxdomain);
  EXPECT_FALSE(c.find("nx.example.test", DnsType::A, t0 + 5s));
}

TEST(DnsCache, BoundedByEntriesLeastRecentlyUsedFirst) {
  DnsCache c(3);
  for (const char* n : {"1.test", "2.test", "3.test"}) c.store(n, DnsType::A, answer(DnsStatus::ok, 60), t0);
  EXPECT_TRUE(c.find("1.test", DnsType::A, t0));  // 1 is now the most recent
  c.store("4.test", DnsType::A, answer(DnsStatus::ok, 60), t0);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.stats().evictions.load(), 1u);
  EXPECT_TRUE(c.find("1.test", DnsType::A, t0));
  EXPECT_FALSE(c.find("2.test", DnsType::A, t0));
  EXPECT_TRUE(c.find("4.test", DnsType::A, t0));
}

TEST(DnsCache, BoundedByBytes) {
  DnsCache c(1000, 4096);
  DnsAnswer big = answer(DnsStatus::ok, 60);
  big.texts.push_back({std::string(1500, 'x'), {std::string(1500, 'x')}});
  for (int i = 0; i < 10; ++i) c.store("t" + std::to_string(i) + ".test", DnsType::TXT, big, t0);
  EXPECT_LE(c.bytes(), 4096u);
  EXPECT_GE(c.size(), 1u);
  EXPECT_LT(c.size(), 10u);
  EXPECT_TRUE(c.find("t9.test", DnsType::TXT, t0));
}

TEST(DnsCache, ZeroEntriesDisablesIt) {
  DnsCache c(0);
  c.store("a.test", DnsType::A, answer(DnsStatus::ok, 60), t0);
  EXPECT_EQ(c.size(), 0u);
}

TEST(DnsCache, ReplacingAnEntryKeepsOneCopy) {
  DnsCache c(10);
  c.store("a.test", DnsType::A, answer(DnsStatus::ok, 60, "192.0.2.1"), t0);
  c.store("a.test", DnsType::A, answer(DnsStatus::ok, 60, "192.0.2.2"), t0 + 1s);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(ip_text(c.find("a.test", DnsType::A, t0 + 2s)->addresses[0]), "192.0.2.2");
}

TEST(DnsReply, GarbageIsAnErrorNotACrash) {
  const unsigned char junk[] = {0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x03, 'a'};
  const DnsAnswer a = parse_reply(0 /* ARES_SUCCESS */, junk, sizeof junk, DnsType::A, 300s);
  EXPECT_EQ(a.status, DnsStatus::error);
  const DnsAnswer b = parse_reply(0, nullptr, 0, DnsType::TXT, 300s);
  EXPECT_EQ(b.status, DnsStatus::error);
}

}  // namespace
}  // namespace sluice::filters
