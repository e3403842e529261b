// parse_reply on replies built here byte by byte: what a server sends that
// unbound (the DNS tests' real server) never would.
#include "filters/dns_reply.hpp"

#include <gtest/gtest.h>

#include <ares.h>

#include <string>
#include <vector>

namespace sluice::filters {
namespace {

using Bytes = std::vector<unsigned char>;

void put16(Bytes& b, unsigned v) {
  b.push_back(static_cast<unsigned char>(v >> 8));
  b.push_back(static_cast<unsigned char>(v));
}

void put_name(Bytes& b, const std::string& dotted) {
  std::size_t start = 0;
  while (start < dotted.size()) {
    const std::size_t dot = dotted.find('.', start);
    const std::size_t end = dot == std::string::npos ? dotted.size() : dot;
    b.push_back(static_cast<unsigned char>(end - start));
    b.insert(b.end(), dotted.begin() + static_cast<long>(start), dotted.begin() + static_cast<long>(end));
    start = end + 1;
  }
  b.push_back(0);
}

// A reply to "www.example.test A": a CNAME whose data is `cname_data` (class
// `cls`), then the target's A record.
Bytes cname_reply(const Bytes& cname_data, unsigned cls = 1) {
  Bytes b = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0};
  put_name(b, "www.example.test");
  put16(b, 1);
  put16(b, 1);
  b.insert(b.end(), {0xc0, 0x0c});  // the question's name
  put16(b, 5);
  put16(b, cls);
  b.insert(b.end(), {0, 0, 0x02, 0x58});
  put16(b, static_cast<unsigned>(cname_data.size()));
  b.insert(b.end(), cname_data.begin(), cname_data.end());
  put_name(b, "host.example.test");
  put16(b, 1);
  put16(b, 1);
  b.insert(b.end(), {0, 0, 0, 30, 0, 4, 192, 0, 2, 7});
  return b;
}

DnsAnswer parse(const Bytes& b) {
  return parse_reply(ARES_SUCCESS, b.data(), static_cast<int>(b.size()), DnsType::A, std::chrono::seconds(900));
}

TEST(DnsReply, CnameTargetIsRead) {
  Bytes target;
  put_name(target, "Host.Example.TEST");
  const DnsAnswer a = parse(cname_reply(target));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.canonical_name, "host.example.test");
  ASSERT_EQ(a.addresses.size(), 1u);
  EXPECT_EQ(a.ttl, 30u);
}

TEST(DnsReply, CnameWhoseNameDoesNotFillItsDataIsNotTaken) {
  // Two bytes of rubbish after the name inside the record's data: the
  // record is malformed, so no target is named (the addresses still are).
  Bytes data;
  put_name(data, "host.example.test");
  data.insert(data.end(), {0xde, 0xad});
  const DnsAnswer a = parse(cname_reply(data));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.canonical_name, "");
  EXPECT_EQ(a.addresses.size(), 1u);
}

TEST(DnsReply, CnameRunningPastItsDataIsNotTaken) {
  // The data holds only the first label; the name goes on in the bytes of
  // the next record.
  const Bytes data = {4, 'h', 'o', 's', 't'};
  const DnsAnswer a = parse(cname_reply(data));
  EXPECT_EQ(a.canonical_name, "");
}

TEST(DnsReply, CnameOfAnotherClassIsNotTaken) {
  Bytes target;
  put_name(target, "host.example.test");
  EXPECT_EQ(parse(cname_reply(target, 3)).canonical_name, "");  // CH
}

}  // namespace
}  // namespace sluice::filters
