// NetworkList: CIDR parsing and matching for v4, v6 and v4-mapped addresses,
// the edge prefixes (0, 32, 128, non-octet), and malformed entries.
#include "gateway/network_list.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice::gateway {
namespace {

NetworkList list_of(std::initializer_list<const char*> entries) {
  NetworkList l;
  for (const char* e : entries) EXPECT_TRUE(l.add(e)) << e;
  return l;
}

TEST(ParseIp, V4IsHeldAsMappedV6) {
  const auto ip = parse_ip("192.0.2.1");
  ASSERT_TRUE(ip);
  const IpBytes want{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
  EXPECT_EQ(*ip, want);
  EXPECT_EQ(parse_ip("::ffff:192.0.2.1"), ip);
  EXPECT_EQ(parse_ip("::FFFF:c000:0201"), ip);
}

TEST(ParseIp, V6) {
  const auto ip = parse_ip("2001:db8::1");
  ASSERT_TRUE(ip);
  const IpBytes want{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(*ip, want);
  EXPECT_EQ(parse_ip("2001:DB8:0:0:0:0:0:1"), ip);
  EXPECT_TRUE(parse_ip("::"));
  EXPECT_TRUE(parse_ip("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"));  // 45 chars, the longest
}

TEST(ParseIp, Malformed) {
  for (const char* text : {"", "1.2.3", "1.2.3.4.5", "1.2.3.256", "1.2.3.-1", "01.2.3.4", " 1.2.3.4",
                           "1.2.3.4 ", "1.2.3.4/32", "[::1]", "::g", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0",
                           "localhost", "IPv6:::1", "0x7f.0.0.1", "2130706433"}) {
    EXPECT_FALSE(parse_ip(text)) << text;
  }
  EXPECT_FALSE(parse_ip(std::string(100, '1')));
  EXPECT_FALSE(parse_ip(std::string("1.2.3.4\0", 8)));  // no NUL truncation
}

TEST(NetworkList, V4Prefix) {
  const NetworkList l = list_of({"192.0.2.0/24"});
  EXPECT_TRUE(l.contains("192.0.2.0"));
  EXPECT_TRUE(l.contains("192.0.2.255"));
  EXPECT_TRUE(l.contains("::ffff:192.0.2.9"));  // a v4 client on a dual-stack socket
  EXPECT_FALSE(l.contains("192.0.3.0"));
  EXPECT_FALSE(l.contains("192.0.1.255"));
  EXPECT_FALSE(l.contains("::192.0.2.9"));      // v4-compatible is not v4
  EXPECT_FALSE(l.contains("2001:db8::c000:209"));
}

TEST(NetworkList, NonOctetPrefixes) {
  const NetworkList v4 = list_of({"10.64.0.0/10"});
  EXPECT_TRUE(v4.contains("10.64.0.0"));
  EXPECT_TRUE(v4.contains("10.127.255.255"));
  EXPECT_FALSE(v4.contains("10.128.0.0"));
  EXPECT_FALSE(v4.contains("10.63.255.255"));

  const NetworkList v6 = list_of({"2001:db8:8000::/33"});
  EXPECT_TRUE(v6.contains("2001:db8:8000::1"));
  EXPECT_TRUE(v6.contains("2001:db8:ffff:ffff::"));
  EXPECT_FALSE(v6.contains("2001:db8:7fff::1"));
}

TEST(NetworkList, HostBitsInTheBaseAreIgnored) {
  const NetworkList l = list_of({"10.1.2.3/8", "2001:db8::1/32"});
  EXPECT_TRUE(l.contains("10.200.0.1"));
  EXPECT_TRUE(l.contains("2001:db8:1234::"));
  EXPECT_FALSE(l.contains("11.1.2.3"));
}

TEST(NetworkList, ExactHostsAndFullPrefixes) {
  const NetworkList l = list_of({"198.51.100.7", "198.51.100.9/32", "2001:db8::7", "2001:db8::9/128"});
  for (const char* in : {"198.51.100.7", "198.51.100.9", "2001:db8::7", "2001:db8::9", "::ffff:198.51.100.7"})
    EXPECT_TRUE(l.contains(in)) << in;
  for (const char* out : {"198.51.100.8", "198.51.100.6", "2001:db8::8", "2001:db8::6", "2001:db8::7:0"})
    EXPECT_FALSE(l.contains(out)) << out;
}

TEST(NetworkList, ZeroPrefixes) {
  const NetworkList v4 = list_of({"0.0.0.0/0"});
  EXPECT_TRUE(v4.contains("0.0.0.0"));
  EXPECT_TRUE(v4.contains("255.255.255.255"));
  EXPECT_FALSE(v4.contains("::1"));  // all of v4, none of v6
  EXPECT_FALSE(v4.contains("2001:db8::1"));

  const NetworkList v6 = list_of({"::/0"});
  EXPECT_TRUE(v6.contains("2001:db8::1"));
  EXPECT_TRUE(v6.contains("192.0.2.1"));  // mapped v4 is inside ::/0

  const NetworkList mapped = list_of({"::ffff:0:0/96"});
  EXPECT_TRUE(mapped.contains("203.0.113.5"));
  EXPECT_FALSE(mapped.contains("::1"));
}

TEST(NetworkList, MalformedEntriesAreRefusedAndNotAdded) {
  NetworkList l;
  for (const char* bad : {"", "/8", "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/8x",
                          "1.2.3.4/ 8", "1.2.3.4/8/8", "::/129", "2001:db8::/4294967328", "1.2.3.4/4294967296",
                          "example.com", "example.com/24", "1.2.3/24", "*"}) {
    EXPECT_FALSE(l.add(bad)) << bad;
  }
  EXPECT_TRUE(l.empty());
  EXPECT_TRUE(l.entries().empty());
  EXPECT_FALSE(l.contains("1.2.3.4"));
}

TEST(NetworkList, EntriesKeepTheirTextInOrder) {
  NetworkList l;
  EXPECT_TRUE(l.add("192.0.2.0/24"));
  EXPECT_FALSE(l.add("bogus"));
  EXPECT_TRUE(l.add("2001:db8::/32"));
  EXPECT_EQ(l.entries(), (std::vector<std::string>{"192.0.2.0/24", "2001:db8::/32"}));
  EXPECT_FALSE(l.empty());
}

TEST(NetworkList, MalformedAddressesNeverMatch) {
  const NetworkList any = NetworkList::any();
  for (const char* text : {"", "unknown", "[192.0.2.1]", "192.0.2.1:25", "IPv6:::1"})
    EXPECT_FALSE(any.contains(text)) << text;
  EXPECT_TRUE(any.contains("192.0.2.1"));
  EXPECT_TRUE(any.contains("2001:db8::1"));
}

TEST(NetworkList, Loopback) {
  const NetworkList l = NetworkList::loopback();
  for (const char* in : {"127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1"})
    EXPECT_TRUE(l.contains(in)) << in;
  for (const char* out : {"128.0.0.1", "126.255.255.255", "::2", "::", "0.0.0.0", "10.0.0.1"})
    EXPECT_FALSE(l.contains(out)) << out;
}

TEST(NetworkList, EmptyListMatchesNothing) {
  const NetworkList l;
  EXPECT_TRUE(l.empty());
  EXPECT_FALSE(l.contains("127.0.0.1"));
  EXPECT_FALSE(l.contains(IpBytes{}));
}

}  // namespace
}  // namespace sluice::gateway
