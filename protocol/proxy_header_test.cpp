// proxy_header_test.cpp — PROXY protocol v1/v2 parser: spec vectors (notes §5),
// headers captured from HAProxy 2.6 (send-proxy, send-proxy-v2 with
// proxy-v2-options crc32c,unique-id, and its LOCAL health check), every
// need_more boundary fed byte by byte, and the rejections.
#include "protocol/proxy_header.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace sluice::protocol {
namespace {

using S = ProxyParseStatus;

std::string unhex(std::string_view hex) {
  std::string out;
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  return out;
}

const std::string kSig = unhex("0D0A0D0A000D0A515549540A");

std::string v2(std::uint8_t ver_cmd, std::uint8_t fam, const std::string& body) {
  std::string h = kSig;
  h.push_back(static_cast<char>(ver_cmd));
  h.push_back(static_cast<char>(fam));
  h.push_back(static_cast<char>(body.size() >> 8));
  h.push_back(static_cast<char>(body.size() & 0xFF));
  return h + body;
}

std::string tlv(std::uint8_t type, const std::string& value) {
  std::string t(1, static_cast<char>(type));
  t.push_back(static_cast<char>(value.size() >> 8));
  t.push_back(static_cast<char>(value.size() & 0xFF));
  return t + value;
}

const std::string kV4Block = unhex("C0000201C63364029C400019");  // 192.0.2.1:40000 -> 198.51.100.2:25

// HAProxy 2.6.12 captures (127.0.0.1 / ::1 through a tcp frontend).
const std::string kHapV2Ipv4 = unhex(
    "0d0a0d0a000d0a515549540a211100167f0000017f000001c96a4282030004ef7152240500006869");
const std::string kHapV2Ipv6 = unhex(
    "0d0a0d0a000d0a515549540a2121002e0000000000000000000000000000000100000000000000"
    "000000000000000001cb004283030004e1be3d270500006869");
const std::string kHapV2Local = unhex("0d0a0d0a000d0a515549540a20000007030004a9b87e8f");

ProxyParseResult parse(std::string_view s) { return parse_proxy_header(s); }

// "src port -> dst port" of a result, so one assertion shows all four.
std::string endpoints(const ProxyParseResult& r) {
  const ProxyHeader& h = r.header;
  return h.src_addr + " " + std::to_string(h.src_port) + " -> " + h.dst_addr + " " +
         std::to_string(h.dst_port);
}

void expect_error(std::string_view s, std::string_view why = {}) {
  const auto r = parse(s);
  EXPECT_EQ(r.status, S::error) << "input: " << testing::PrintToString(std::string(s));
  EXPECT_FALSE(r.error.empty());
  if (!why.empty()) {
    EXPECT_NE(r.error.find(why), std::string::npos) << r.error;
  }
}

// Every strict prefix of the header is need_more, the header itself is done,
// and bytes after it (the SMTP stream) are never consumed.
void expect_incremental(const std::string& header) {
  for (std::size_t n = 0; n < header.size(); ++n) {
    const auto r = parse(std::string_view(header).substr(0, n));
    ASSERT_EQ(r.status, S::need_more) << "prefix of " << n << " bytes: " << r.error;
  }
  for (const std::string& tail : {std::string(), std::string("EHLO x\r\n"), kSig}) {
    const auto r = parse(header + tail);
    ASSERT_EQ(r.status, S::done) << r.error;
    EXPECT_EQ(r.consumed, header.size());
  }
}

// ---- v1 --------------------------------------------------------------------

TEST(ProxyV1, Tcp4SpecVector) {
  const std::string line = "PROXY TCP4 192.0.2.1 198.51.100.2 40000 25\r\n";
  const auto r = parse(line + "EHLO client.example\r\n");
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_EQ(r.consumed, line.size());
  EXPECT_EQ(r.header.version, 1);
  EXPECT_FALSE(r.header.local);
  EXPECT_FALSE(r.header.ipv6);
  EXPECT_EQ(endpoints(r), "192.0.2.1 40000 -> 198.51.100.2 25");
  EXPECT_TRUE(r.header.tlvs.empty());
}

TEST(ProxyV1, Tcp6SpecVectorAndCanonicalForm) {
  auto r = parse("PROXY TCP6 2001:db8::1 2001:db8::25 40000 25\r\n");
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_TRUE(r.header.ipv6);
  EXPECT_EQ(endpoints(r), "2001:db8::1 40000 -> 2001:db8::25 25");
  // Upper case and uncompressed text is valid and comes out canonical.
  r = parse("PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::FFFF:192.0.2.9 0 65535\r\n");
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_EQ(endpoints(r), "2001:db8::1 0 -> ::ffff:192.0.2.9 65535");
}

TEST(ProxyV1, HaproxyCaptures) {
  auto r = parse("PROXY TCP4 127.0.0.1 127.0.0.1 39542 17026\r\nhi");
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_EQ(r.consumed, 44u);
  EXPECT_EQ(endpoints(r), "127.0.0.1 39542 -> 127.0.0.1 17026");
  r = parse("PROXY TCP6 ::1 ::1 57684 17027\r\nhi");
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_EQ(r.consumed, 32u);
  EXPECT_EQ(endpoints(r), "::1 57684 -> ::1 17027");
}

TEST(ProxyV1, Unknown) {
  auto r = parse("PROXY UNKNOWN\r\nEHLO x\r\n");
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_EQ(r.consumed, 15u);
  EXPECT_TRUE(r.header.local);
  EXPECT_EQ(r.header.version, 1);
  EXPECT_TRUE(r.header.src_addr.empty());
  // Whatever follows UNKNOWN up to CRLF is ignored, even if it is not addresses.
  r = parse("PROXY UNKNOWN ffff::1 whatever 99999 x\r\n");
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_TRUE(r.header.local);
  EXPECT_EQ(endpoints(r), " 0 ->  0");
}

TEST(ProxyV1, MaximumLengths) {
  const std::string tcp4 = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
  ASSERT_EQ(tcp4.size(), 56u);
  const std::string g = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string tcp6 = "PROXY TCP6 " + g + " " + g + " 65535 65535\r\n";
  ASSERT_EQ(tcp6.size(), 104u);
  const std::string unknown = "PROXY UNKNOWN " + g + " " + g + " 65535 65535\r\n";
  ASSERT_EQ(unknown.size(), 107u);
  for (const auto& line : {tcp4, tcp6, unknown}) {
    const auto r = parse(line);
    ASSERT_EQ(r.status, S::done) << line << r.error;
    EXPECT_EQ(r.consumed, line.size());
  }
  // One byte more than the worst case: the CRLF would end at byte 108.
  const std::string over = "PROXY UNKNOWN " + g + " " + g + " 65535 655350\r\n";
  ASSERT_EQ(over.size(), 108u);
  expect_error(over, "107");
  // The error comes at byte 107 already, without waiting for a CRLF.
  EXPECT_EQ(parse(over.substr(0, 106)).status, S::need_more);
  EXPECT_EQ(parse(over.substr(0, 107)).status, S::error);
  expect_error("PROXY UNKNOWN " + std::string(200, 'x'), "107");
}

TEST(ProxyV1, EveryPrefixIsNeedMore) {
  const std::string g = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  for (const std::string& line : std::initializer_list<std::string>{
           "PROXY TCP4 192.0.2.1 198.51.100.2 40000 25\r\n",
        "PROXY TCP6 2001:db8::1 2001:db8::25 40000 25\r\n", "PROXY UNKNOWN\r\n",
        "PROXY UNKNOWN 192.0.2.1 198.51.100.2 1 2\r\n",
        "PROXY TCP4 0.0.0.0 10.0.0.10 0 0\r\n", "PROXY TCP6 ::ffff:1.2.3.4 :: 9 65535\r\n",
        "PROXY UNKNOWN " + g + " " + g + " 65535 65535\r\n"}) {
    SCOPED_TRACE(line);
    expect_incremental(line);
  }
}

TEST(ProxyV1, BadPorts) {
  for (std::string_view port : {"+25", "025", "00", "65536", "99999", "123456", "-1", "2a",
                                "", " 25", "25 "}) {
    SCOPED_TRACE(port);
    expect_error("PROXY TCP4 192.0.2.1 198.51.100.2 40000 " + std::string(port) + "\r\n");
    expect_error("PROXY TCP4 192.0.2.1 198.51.100.2 " + std::string(port) + " 25\r\n");
  }
  // Decided before the line ends: a sixth digit, a value over 65535, a leading zero.
  EXPECT_EQ(parse("PROXY TCP4 192.0.2.1 198.51.100.2 6553").status, S::need_more);
  EXPECT_EQ(parse("PROXY TCP4 192.0.2.1 198.51.100.2 65536").status, S::error);
  EXPECT_EQ(parse("PROXY TCP4 192.0.2.1 198.51.100.2 01").status, S::error);
}

TEST(ProxyV1, BadAddresses) {
  for (std::string_view a : {"192.0.2.01", "192.0.2", "192.0.2.1.5", "256.0.0.1", "1..2.3",
                             "0x1.2.3.4", "2001:db8::1", "", "192.0.2.1/24", ".1.2.3"}) {
    SCOPED_TRACE(a);
    expect_error("PROXY TCP4 " + std::string(a) + " 198.51.100.2 40000 25\r\n", "address");
    expect_error("PROXY TCP4 198.51.100.2 " + std::string(a) + " 40000 25\r\n", "address");
  }
  for (std::string_view a : {"192.0.2.1", "2001:db8:::1", "2001:db8::1%eth0", "[2001:db8::1]",
                             "1:2:3:4:5:6:7:8:9", "2001:db8::g", "::1::2", "12345::"}) {
    SCOPED_TRACE(a);
    expect_error("PROXY TCP6 " + std::string(a) + " ::1 40000 25\r\n", "address");
  }
  // Spec vector (notes §5): leading zero in an octet.
  expect_error("PROXY TCP4 192.0.2.01 198.51.100.2 40000 25\r\n");
  // IPv4 prefixes that cannot complete fail at once.
  EXPECT_EQ(parse("PROXY TCP4 19").status, S::need_more);
  EXPECT_EQ(parse("PROXY TCP4 999").status, S::error);
  EXPECT_EQ(parse("PROXY TCP4 1.2.3.4.").status, S::error);
  EXPECT_EQ(parse("PROXY TCP4 192.0.2.01").status, S::error);
  EXPECT_EQ(parse("PROXY TCP4 192.0.2.1 00").status, S::error);
  EXPECT_EQ(parse("PROXY TCP6 2001:db8:::").status, S::error);
}

TEST(ProxyV1, LineStructure) {
  expect_error("PROXY TCP4 192.0.2.1 198.51.100.2 40000 25\n", "CRLF");  // spec: no CR
  expect_error("PROXY TCP4 192.0.2.1 198.51.100.2 40000 25\rX");
  expect_error("PROXY TCP4 192.0.2.1 198.51.100.2 40000 25\r\r\n");
  expect_error("PROXY  TCP4 192.0.2.1 198.51.100.2 40000 25\r\n");      // spec: two spaces
  expect_error("PROXY TCP4  192.0.2.1 198.51.100.2 40000 25\r\n");
  expect_error("PROXY TCP4 192.0.2.1 198.51.100.2 40000  25\r\n");
  expect_error("PROXY TCP4 192.0.2.1 198.51.100.2 40000 25 \r\n");
  expect_error("PROXY TCP4\t192.0.2.1 198.51.100.2 40000 25\r\n");
  expect_error("PROXY TCP4 192.0.2.1 198.51.100.2 40000\r\n");
  expect_error("PROXY TCP4 192.0.2.1 198.51.100.2 40000 25 26\r\n");
  expect_error("PROXY TCP4\r\n");
  expect_error("PROXY tcp4 192.0.2.1 198.51.100.2 40000 25\r\n");
  expect_error("PROXY TCP5 192.0.2.1 198.51.100.2 40000 25\r\n");
  expect_error("PROXY UDP4 192.0.2.1 198.51.100.2 40000 25\r\n");
  expect_error("proxy TCP4 192.0.2.1 198.51.100.2 40000 25\r\n");
  expect_error("PROXY UNKNOWNX\r\n");
  expect_error("PROXY UNKNOWN\n");
  expect_error("PROXY UNKNOWN x\ny\r\n");
  expect_error("PROXY UNKNOWN x\n\n");
  expect_error("PROXY UNKNOWN x\n");
  expect_error("PROXY UNKNOWN x\rX\r\n");
  expect_error("PROXY\r\n");
  // Errors arrive at the first impossible byte, not at the end of the line.
  EXPECT_EQ(parse("PROXY TCP").status, S::need_more);
  EXPECT_EQ(parse("PROXY TCPX").status, S::error);
  EXPECT_EQ(parse("PROXY X").status, S::error);
}

// ---- not a PROXY header -----------------------------------------------------

TEST(ProxyDetect, NonProxyInputIsAnError) {
  expect_error("EHLO x\r\n", "no PROXY");
  expect_error("E");
  expect_error("HELO client\r\n");
  expect_error("GET / HTTP/1.1\r\n");
  expect_error(unhex("160301"));  // a TLS ClientHello
  expect_error("PROXX TCP4");
  expect_error(std::string_view("\r\n\r\n\0\r\nQUIT\r", 12));  // signature differs at byte 11
  expect_error("\r\nQUIT\r\n");
  expect_error(std::string("\0", 1));
}

TEST(ProxyDetect, AmbiguousStartsWaitForMore) {
  EXPECT_EQ(parse("").status, S::need_more);
  EXPECT_EQ(parse("P").status, S::need_more);
  EXPECT_EQ(parse("PROXY").status, S::need_more);
  EXPECT_EQ(parse("\r").status, S::need_more);
  EXPECT_EQ(parse("\r\n\r\n").status, S::need_more);
  EXPECT_EQ(parse(kSig).status, S::need_more);
}

// ---- v2 --------------------------------------------------------------------

TEST(ProxyV2, Ipv4SpecVector) {
  const std::string h = unhex("0D0A0D0A000D0A515549540A2111000CC0000201C63364029C400019");
  ASSERT_EQ(h, v2(0x21, 0x11, kV4Block));
  const auto r = parse(h + "EHLO x\r\n");
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_EQ(r.consumed, 28u);
  EXPECT_EQ(r.header.version, 2);
  EXPECT_FALSE(r.header.local);
  EXPECT_FALSE(r.header.ipv6);
  EXPECT_EQ(endpoints(r), "192.0.2.1 40000 -> 198.51.100.2 25");
  EXPECT_TRUE(r.header.tlvs.empty());
  EXPECT_FALSE(r.header.checksum_verified);
}

TEST(ProxyV2, NoopTlvSpecVector) {
  const std::string h = unhex("0D0A0D0A000D0A515549540A21110010C0000201C63364029C40001904000100");
  const auto r = parse(h);
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_EQ(r.consumed, 32u);
  ASSERT_EQ(r.header.tlvs.size(), 1u);
  EXPECT_EQ(r.header.tlvs[0].type, kProxyTlvNoop);
  EXPECT_EQ(r.header.tlvs[0].value, std::string(1, '\0'));
}

TEST(ProxyV2, LocalSpecVector) {
  const auto r = parse(unhex("0D0A0D0A000D0A515549540A20000000") + "EHLO");
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_EQ(r.consumed, 16u);
  EXPECT_TRUE(r.header.local);
  EXPECT_TRUE(r.header.src_addr.empty());
}

TEST(ProxyV2, HaproxyCapturesWithCrc32c) {
  auto r = parse(kHapV2Ipv4);
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_EQ(r.consumed, kHapV2Ipv4.size() - 2);  // "hi" follows
  EXPECT_EQ(endpoints(r), "127.0.0.1 51562 -> 127.0.0.1 17026");
  EXPECT_TRUE(r.header.checksum_verified);
  ASSERT_EQ(r.header.tlvs.size(), 2u);
  EXPECT_EQ(r.header.tlvs[0].type, kProxyTlvCrc32c);
  ASSERT_NE(r.header.find_tlv(kProxyTlvUniqueId), nullptr);
  EXPECT_TRUE(r.header.find_tlv(kProxyTlvUniqueId)->value.empty());
  EXPECT_EQ(r.header.find_tlv(kProxyTlvAlpn), nullptr);

  r = parse(kHapV2Ipv6);
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_EQ(r.consumed, kHapV2Ipv6.size() - 2);
  EXPECT_TRUE(r.header.ipv6);
  EXPECT_EQ(endpoints(r), "::1 51968 -> ::1 17027");
  EXPECT_TRUE(r.header.checksum_verified);

  // HAProxy's health check: LOCAL/UNSPEC with a CRC32C TLV at offset 16.
  r = parse(kHapV2Local);
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_TRUE(r.header.local);
  EXPECT_TRUE(r.header.checksum_verified);

  // Any flipped bit, in the addresses or the checksum itself, is rejected.
  for (std::size_t i : {std::size_t{17}, std::size_t{27}, std::size_t{34}}) {
    std::string bad = kHapV2Ipv4;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    expect_error(bad, "CRC32C");
  }
}

TEST(ProxyV2, Crc32cCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // RFC 3720 B.4 / CRC catalogue check value
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(ProxyV2, Ipv6WithTlvs) {
  const std::string block =
      unhex("20010db8000000000000000000000001" "20010db8000000000000000000000025" "9c400019");
  const std::string h = v2(0x21, 0x21, block + tlv(kProxyTlvAuthority, "mx.example") +
                                           tlv(kProxyTlvSsl, unhex("0100000000")) + tlv(0xE5, ""));
  const auto r = parse(h);
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_TRUE(r.header.ipv6);
  EXPECT_EQ(endpoints(r), "2001:db8::1 40000 -> 2001:db8::25 25");
  ASSERT_EQ(r.header.tlvs.size(), 3u);
  EXPECT_EQ(r.header.tlvs[0].value, "mx.example");
  EXPECT_EQ(r.header.tlvs[1].type, kProxyTlvSsl);
  EXPECT_EQ(r.header.tlvs[1].value.size(), 5u);
  EXPECT_EQ(r.header.tlvs[2].type, 0xE5);
}

TEST(ProxyV2, LocalIgnoresAddressesButReadsTlvs) {
  // LOCAL with an IPv4 family: addresses skipped, TLVs after the block read.
  auto r = parse(v2(0x20, 0x11, kV4Block + tlv(kProxyTlvAlpn, "smtp")));
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_TRUE(r.header.local);
  EXPECT_EQ(endpoints(r), " 0 ->  0");
  ASSERT_EQ(r.header.tlvs.size(), 1u);
  EXPECT_EQ(r.header.tlvs[0].value, "smtp");
  // LOCAL with a family whose block is absent: len honoured, nothing parsed.
  r = parse(v2(0x20, 0x21, "abc"));
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_EQ(r.consumed, 19u);
  EXPECT_TRUE(r.header.tlvs.empty());
  // LOCAL does not care about UNIX or DGRAM either.
  EXPECT_EQ(parse(v2(0x20, 0x31, std::string(216, 'p'))).status, S::done);
}

TEST(ProxyV2, UnspecMeansLocal) {
  for (std::uint8_t fam : {0x00, 0x01, 0x02, 0x10, 0x20, 0x30}) {
    SCOPED_TRACE(static_cast<int>(fam));
    const auto r = parse(v2(0x21, fam, fam >= 0x10 ? kV4Block + std::string(24, '\0') : ""));
    ASSERT_EQ(r.status, S::done) << r.error;
    EXPECT_TRUE(r.header.local);
    EXPECT_TRUE(r.header.src_addr.empty());
  }
}

TEST(ProxyV2, EveryPrefixIsNeedMore) {
  for (const std::string& h :
       {v2(0x21, 0x11, kV4Block), v2(0x20, 0x00, ""), kHapV2Ipv4.substr(0, 38),
        kHapV2Ipv6.substr(0, 62), kHapV2Local,
        v2(0x21, 0x11, kV4Block + tlv(kProxyTlvNoop, std::string(300, '\0')))}) {
    SCOPED_TRACE(testing::PrintToString(h));
    expect_incremental(h);
  }
}

TEST(ProxyV2, BadVersionCommandFamily) {
  const std::string ok = v2(0x21, 0x11, kV4Block);
  // Decided as soon as the offending byte arrives (13 or 14 bytes seen).
  const struct { std::size_t at; std::uint8_t value; const char* why; } cases[] = {
      {12, 0x11, "version"}, {12, 0x31, "version"}, {12, 0x01, "version"},
      {12, 0x22, "command"}, {12, 0x2F, "command"}, {13, 0x41, "family"},
      {13, 0x13, "family"},  {13, 0xF1, "family"},  {13, 0x31, "TCP"},
      {13, 0x32, "TCP"},     {13, 0x12, "TCP"},     {13, 0x22, "TCP"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << "byte " << c.at << " = " << int(c.value));
    std::string bad = ok;
    bad[c.at] = static_cast<char>(c.value);
    expect_error(bad, c.why);
    expect_error(std::string_view(bad).substr(0, c.at + 1), c.why);
  }
}

TEST(ProxyV2, LengthLimitsAndShortBlocks) {
  // Over the limit: rejected at byte 16, before any body arrives.
  std::string big = v2(0x21, 0x11, kV4Block + tlv(kProxyTlvNoop, std::string(4096 - 12 - 3 + 1, 'n')));
  expect_error(std::string_view(big).substr(0, 16), "limit");
  expect_error(big, "limit");
  big = v2(0x21, 0x11, kV4Block + tlv(kProxyTlvNoop, std::string(4096 - 12 - 3, 'n')));
  EXPECT_EQ(parse(big).status, S::done);  // exactly 16 + 4096
  // A caller-chosen, smaller limit.
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, kV4Block), 12).status, S::done);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, kV4Block), 11).status, S::error);
  EXPECT_EQ(parse_proxy_header(unhex("0D0A0D0A000D0A515549540A2111FFFF"), 65535).status,
            S::need_more);
  // Address block too short for the family: rejected at byte 16 too.
  expect_error(v2(0x21, 0x11, kV4Block.substr(0, 11)), "too short");
  expect_error(std::string_view(v2(0x21, 0x21, kV4Block)).substr(0, 16), "too short");
}

TEST(ProxyV2, MalformedTlvs) {
  const std::string cases[] = {
      kV4Block + "\x04",                                   // 1 byte left
      kV4Block + std::string("\x04\x00", 2),               // 2 bytes left
      kV4Block + std::string("\x01\x00\x05" "ab", 5),      // value overruns len
      kV4Block + tlv(kProxyTlvNoop, "") + std::string("\x02\x01\x00", 3),
      kV4Block + tlv(kProxyTlvCrc32c, "abc"),              // CRC32C must be 4 bytes
      kV4Block + tlv(kProxyTlvCrc32c, std::string(4, '\0')),  // wrong checksum
  };
  for (const auto& body : cases) {
    SCOPED_TRACE(testing::PrintToString(body));
    expect_error(v2(0x21, 0x11, body), "v2:");
  }
  // Two CRC32C TLVs: refused even though the second one matches.
  std::string h = v2(0x21, 0x11, kV4Block + tlv(kProxyTlvCrc32c, std::string(4, '\0')) +
                                     tlv(kProxyTlvCrc32c, std::string(4, '\0')));
  const std::uint32_t c = crc32c(h);
  for (int i = 0; i < 4; ++i) h[38 + i] = static_cast<char>(c >> (24 - 8 * i));
  expect_error(h, "malformed CRC32C");
}

TEST(ProxyV2, Crc32cBuiltHere) {
  std::string h = v2(0x21, 0x11, kV4Block + tlv(kProxyTlvCrc32c, std::string(4, '\0')) +
                                     tlv(kProxyTlvAuthority, "mx.example"));
  const std::uint32_t c = crc32c(h);
  for (int i = 0; i < 4; ++i) h[31 + i] = static_cast<char>(c >> (24 - 8 * i));
  const auto r = parse(h);
  ASSERT_EQ(r.status, S::done) << r.error;
  EXPECT_TRUE(r.header.checksum_verified);
  h.back() = 'X';
  expect_error(h, "CRC32C");
}

TEST(ProxyV2, TruncatedHeaderNeverCompletes) {
  // A header cut short is a valid prefix: the caller's timeout ends it (notes §1).
  const std::string h = kHapV2Ipv6.substr(0, 62);
  EXPECT_EQ(parse(h.substr(0, 61)).status, S::need_more);
  EXPECT_EQ(parse(h.substr(0, 16)).status, S::need_more);
  EXPECT_EQ(parse(h.substr(0, 61)).consumed, 0u);
}

}  // namespace
}  // namespace sluice::protocol
