#include "protocol/xclient.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice::protocol {
namespace {

using namespace std::string_literals;

// Parses `args`, expects success and returns the attributes.
XclientAttributes parse_ok(std::string_view args) {
  const XclientParse p = parse_xclient_args(args);
  EXPECT_TRUE(p.ok) << "args: " << args << " error: " << p.error.text();
  EXPECT_TRUE(p.error.empty());
  return p.attrs;
}

// Parses `args`, expects a 501 5.5.4 with exactly `text`, and nothing applied.
void expect_error(std::string_view args, std::string_view text) {
  const XclientParse p = parse_xclient_args(args);
  EXPECT_FALSE(p.ok) << "args: " << args;
  EXPECT_EQ(p.error.code, 501) << "args: " << args;
  EXPECT_EQ(p.error.enhanced, "5.5.4") << "args: " << args;
  EXPECT_EQ(p.error.text(), text) << "args: " << args;
  EXPECT_FALSE(p.attrs.name || p.attrs.addr || p.attrs.port || p.attrs.proto || p.attrs.helo ||
               p.attrs.login || p.attrs.destaddr || p.attrs.destport)
      << "partial attributes leaked for: " << args;
}

void expect_value(const std::optional<XclientValue>& v, std::string_view value) {
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->special, XclientSpecial::none);
  EXPECT_EQ(v->value, value);
}

void expect_special(const std::optional<XclientValue>& v, XclientSpecial special) {
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->special, special);
  EXPECT_EQ(v->value, "");
}

// --- whole-command shapes -------------------------------------------------

TEST(Xclient, NginxLine) {
  // xclient.md section 7: what nginx's mail proxy sends.
  const auto a = parse_ok("ADDR=192.0.2.7 LOGIN=user@dom NAME=[UNAVAILABLE]");
  expect_value(a.addr, "192.0.2.7");
  EXPECT_FALSE(a.addr_ipv6);
  expect_value(a.login, "user@dom");
  expect_special(a.name, XclientSpecial::unavailable);
  EXPECT_FALSE(a.port || a.proto || a.helo || a.destaddr || a.destport);
}

TEST(Xclient, NginxLineIpv6EncodedLoginTempunavail) {
  const auto a = parse_ok("ADDR=IPV6:2001:db8::7 LOGIN=a+20b NAME=[TEMPUNAVAIL]");
  expect_value(a.addr, "2001:db8::7");
  EXPECT_TRUE(a.addr_ipv6);
  expect_value(a.login, "a b");
  expect_special(a.name, XclientSpecial::tempunavail);
}

TEST(Xclient, PostfixReadmeExample) {
  const auto a = parse_ok("NAME=spike.porcupine.org ADDR=168.100.189.2");
  expect_value(a.name, "spike.porcupine.org");
  expect_value(a.addr, "168.100.189.2");
}

TEST(Xclient, AllAttributesAtOnce) {
  const auto a = parse_ok(
      "NAME=mx.example.org ADDR=192.0.2.1 PORT=25 PROTO=ESMTP HELO=mx.example.org "
      "LOGIN=bob DESTADDR=IPV6:2001:db8::25 DESTPORT=587 REVERSE_NAME=mx.example.org");
  expect_value(a.name, "mx.example.org");
  expect_value(a.addr, "192.0.2.1");
  expect_value(a.port, "25");
  expect_value(a.proto, "ESMTP");
  expect_value(a.helo, "mx.example.org");
  expect_value(a.login, "bob");
  expect_value(a.destaddr, "2001:db8::25");
  EXPECT_FALSE(a.addr_ipv6);
  EXPECT_TRUE(a.destaddr_ipv6);
  expect_value(a.destport, "587");
}

TEST(Xclient, AbsentAttributesStayUnset) {
  const auto a = parse_ok("HELO=client.example");
  expect_value(a.helo, "client.example");
  EXPECT_FALSE(a.name || a.addr || a.port || a.proto || a.login || a.destaddr || a.destport);
}

TEST(Xclient, AttributeNamesAreCaseInsensitive) {
  const auto a = parse_ok("addr=192.0.2.1 Name=host.example pRoTo=smtp");
  expect_value(a.addr, "192.0.2.1");
  expect_value(a.name, "host.example");
  expect_value(a.proto, "SMTP");
}

TEST(Xclient, BlanksBetweenElementsAreTolerated) {
  const auto a = parse_ok("  ADDR=192.0.2.1 \t  PORT=1025  ");
  expect_value(a.addr, "192.0.2.1");
  expect_value(a.port, "1025");
}

TEST(Xclient, EveryAdvertisedNameIsRecognised) {
  std::string_view names = kXclientAttributeNames;
  int count = 0;
  while (!names.empty()) {
    const auto sp = names.find(' ');
    const std::string name(names.substr(0, sp));
    names = sp == std::string_view::npos ? std::string_view{} : names.substr(sp + 1);
    const XclientParse p = parse_xclient_args(name + "=x");
    EXPECT_EQ(p.error.text().find("attribute name"), std::string_view::npos) << name;
    ++count;
  }
  EXPECT_EQ(count, 9);
}

// --- generic syntax errors -------------------------------------------------

TEST(Xclient, EmptyArguments) {
  expect_error("", "Syntax: XCLIENT attribute=value...");
  expect_error("   \t ", "Syntax: XCLIENT attribute=value...");
}

TEST(Xclient, MissingEqualsEmptyValueEmptyName) {
  expect_error("ADDR", "Error: attribute=value expected");
  expect_error("ADDR=", "Error: attribute=value expected");
  expect_error("=192.0.2.1", "Error: attribute=value expected");
  expect_error("=", "Error: attribute=value expected");
  expect_error("ADDR=192.0.2.1 PORT", "Error: attribute=value expected");
  // A blank after '=' leaves an empty value, not a value with a blank.
  expect_error("PORT= 25", "Error: attribute=value expected");
}

TEST(Xclient, UnknownAttributeIsNamed) {
  expect_error("FOO=bar", "Bad XCLIENT attribute name: FOO");
  expect_error("ADDR=192.0.2.1 Source=x", "Bad XCLIENT attribute name: Source");
}

TEST(Xclient, UnknownAttributeNameIsSanitisedAndCut) {
  const XclientParse p = parse_xclient_args("F\x01\xffO=bar");
  ASSERT_FALSE(p.ok);
  EXPECT_EQ(p.error.text(), "Bad XCLIENT attribute name: F\\x01\\xffO");

  const XclientParse q = parse_xclient_args(std::string(1000, 'A') + "=x");
  ASSERT_FALSE(q.ok);
  EXPECT_LT(q.error.text().size(), 120u);
  const std::string wire = q.error.to_wire();
  EXPECT_EQ(wire.find("\r\n"), wire.size() - 2);  // one line
}

TEST(Xclient, FirstErrorWins) {
  expect_error("FOO=1 PROTO=BAR", "Bad XCLIENT attribute name: FOO");
  expect_error("PROTO=BAR FOO=1", "Bad PROTO syntax: BAR");
}

TEST(Xclient, NothingAppliedWhenALaterElementFails) {
  // expect_error also checks that no attribute leaks out.
  expect_error("ADDR=192.0.2.1 NAME=ok.example PROTO=FOO", "Bad PROTO syntax: FOO");
}

TEST(Xclient, DuplicateAttributeIsRefused) {
  expect_error("ADDR=192.0.2.1 ADDR=192.0.2.2", "Error: duplicate XCLIENT attribute: ADDR");
  expect_error("addr=192.0.2.1 ADDR=[UNAVAILABLE]", "Error: duplicate XCLIENT attribute: ADDR");
  expect_error("REVERSE_NAME=a.example REVERSE_NAME=b.example",
               "Error: duplicate XCLIENT attribute: REVERSE_NAME");
}

TEST(Xclient, ErrorRepliesAreSingleSafeLines) {
  const XclientParse p = parse_xclient_args("PROTO=\x01\r\n\x80");
  ASSERT_FALSE(p.ok);
  EXPECT_EQ(p.error.text(), "Bad PROTO syntax: \\x01\\x0d\\x0a\\x80");
  EXPECT_EQ(p.error.to_wire(), "501 5.5.4 Bad PROTO syntax: \\x01\\x0d\\x0a\\x80\r\n");
}

// --- value limits -------------------------------------------------------------

TEST(Xclient, HeloUpTo255Characters) {
  const std::string ok(255, 'h');
  expect_value(parse_ok("HELO=" + ok).helo, ok);
  expect_error("HELO=" + std::string(256, 'h'), "Error: attribute value too long");
}

TEST(Xclient, LengthLimitAppliesToTheDecodedValue) {
  std::string encoded;
  for (int i = 0; i < 100; ++i) encoded += "+41";  // 300 octets on the wire, 100 decoded
  expect_value(parse_ok("HELO=" + encoded).helo, std::string(100, 'A'));
  std::string too_long;
  for (int i = 0; i < 256; ++i) too_long += "+41";
  expect_error("LOGIN=" + too_long, "Error: attribute value too long");
}

TEST(Xclient, NameLongerThan255IsRefused) {
  std::string name;
  while (name.size() < 256) name += "abcdefg.";
  name += "example";
  expect_error("NAME=" + name, "Error: attribute value too long");
}

// --- xtext handling -------------------------------------------------------

TEST(Xclient, LoginIsXtextDecoded) {
  expect_value(parse_ok("LOGIN=a+20b").login, "a b");
  expect_value(parse_ok("LOGIN=user+2Btag@dom").login, "user+tag@dom");
  expect_value(parse_ok("LOGIN=j+C3+B6rg").login, "j\xc3\xb6rg");  // nginx escapes 8-bit
}

TEST(Xclient, InvalidXtextFallsBackToRawValue) {
  // Pre-2.3 Postfix clients send raw text (XCLIENT_README).
  expect_value(parse_ok("LOGIN=user+tag@dom").login, "user+tag@dom");
  expect_value(parse_ok("LOGIN=a=b").login, "a=b");
  expect_value(parse_ok("LOGIN=j\xc3\xb6rg").login, "j\xc3\xb6rg");
  expect_value(parse_ok("HELO=trailing+").helo, "trailing+");
}

TEST(Xclient, LowerCaseHexIsNotDecoded) {
  // Our decision (xtext.hpp): "+2b" is not xtext, so the raw value is kept.
  expect_value(parse_ok("LOGIN=a+2bc").login, "a+2bc");
  expect_value(parse_ok("LOGIN=bob+ca@x").login, "bob+ca@x");
  expect_value(parse_ok("LOGIN=a+2Bc").login, "a+c");
}

TEST(Xclient, DecodedControlCharactersAreRefused) {
  expect_error("LOGIN=a+00b", "Bad LOGIN syntax: a+00b");
  expect_error("LOGIN=a+0Ab", "Bad LOGIN syntax: a+0Ab");
  expect_error("LOGIN=a+7Fb", "Bad LOGIN syntax: a+7Fb");
  expect_error("HELO=x+0D+0A250+20OK", "Bad HELO syntax: x+0D+0A250+20OK");
  expect_error("HELO=x+C3+B6", "Bad HELO syntax: x+C3+B6");
}

TEST(Xclient, HeloAllowsPrintablesAndSpace) {
  expect_value(parse_ok("HELO=[192.0.2.1]").helo, "[192.0.2.1]");
  expect_value(parse_ok("HELO=odd+20client").helo, "odd client");
  expect_value(parse_ok("HELO=a+3Db").helo, "a=b");
  expect_special(parse_ok("HELO=[unavailable]").helo, XclientSpecial::unavailable);
}

TEST(Xclient, SpecialValuesMayBeXtextEncoded) {
  expect_special(parse_ok("LOGIN=+5BUNAVAILABLE+5D").login, XclientSpecial::unavailable);
}

// --- ADDR / DESTADDR ---------------------------------------------------------

TEST(Xclient, Ipv6NeedsPrefixAndIsNormalised) {
  const auto a = parse_ok("ADDR=IPV6:2001:db8::1");
  expect_value(a.addr, "2001:db8::1");  // no prefix, no brackets
  EXPECT_TRUE(a.addr_ipv6);
  expect_value(parse_ok("ADDR=ipv6:2001:DB8:0:0::1").addr, "2001:db8::1");
  expect_value(parse_ok("ADDR=IpV6:::ffff:192.0.2.1").addr, "::ffff:192.0.2.1");
  expect_value(parse_ok("DESTADDR=IPV6:::1").destaddr, "::1");
}

TEST(Xclient, BadAddresses) {
  expect_error("ADDR=2001:db8::1", "Bad ADDR syntax: 2001:db8::1");  // v6 without prefix
  expect_error("ADDR=[192.0.2.1]", "Bad ADDR syntax: [192.0.2.1]");
  expect_error("ADDR=IPV6:[2001:db8::1]", "Bad ADDR syntax: IPV6:[2001:db8::1]");
  expect_error("ADDR=IPV6:192.0.2.1", "Bad ADDR syntax: IPV6:192.0.2.1");
  expect_error("ADDR=IPV6:", "Bad ADDR syntax: IPV6:");
  expect_error("ADDR=IPV6:fe80::1%eth0", "Bad ADDR syntax: IPV6:fe80::1%eth0");
  expect_error("ADDR=192.0.2.256", "Bad ADDR syntax: 192.0.2.256");
  expect_error("ADDR=192.0.2", "Bad ADDR syntax: 192.0.2");
  expect_error("ADDR=192.0.2.1.5", "Bad ADDR syntax: 192.0.2.1.5");
  expect_error("ADDR=host.example", "Bad ADDR syntax: host.example");
  expect_error("ADDR=[TEMPUNAVAIL]", "Bad ADDR syntax: [TEMPUNAVAIL]");
  expect_error("DESTADDR=10.0.0.x", "Bad DESTADDR syntax: 10.0.0.x");
}

TEST(Xclient, AddressWithEmbeddedNulIsRefused) {
  // inet_pton() would stop at the NUL and accept "192.0.2.1".
  expect_error("ADDR=192.0.2.1+00junk", "Bad ADDR syntax: 192.0.2.1+00junk");
  expect_error("ADDR=192.0.2.1+00", "Bad ADDR syntax: 192.0.2.1+00");
}

TEST(Xclient, AddressUnavailable) {
  const auto a = parse_ok("ADDR=[unavailable] DESTADDR=[UNAVAILABLE]");
  expect_special(a.addr, XclientSpecial::unavailable);
  expect_special(a.destaddr, XclientSpecial::unavailable);
  EXPECT_FALSE(a.addr_ipv6);
}

// --- PORT / DESTPORT ----------------------------------------------------------

TEST(Xclient, Ports) {
  expect_value(parse_ok("PORT=0").port, "0");
  expect_value(parse_ok("PORT=65535").port, "65535");
  expect_value(parse_ok("PORT=00025").port, "25");
  expect_value(parse_ok("DESTPORT=587").destport, "587");
  expect_special(parse_ok("PORT=[UNAVAILABLE]").port, XclientSpecial::unavailable);
  expect_error("PORT=123456", "Bad PORT syntax: 123456");
  expect_error("PORT=000025", "Bad PORT syntax: 000025");  // more than 5 digits
  expect_error("PORT=65536", "Bad PORT syntax: 65536");
  expect_error("PORT=99999", "Bad PORT syntax: 99999");
  expect_error("PORT=-1", "Bad PORT syntax: -1");
  expect_error("PORT=2a", "Bad PORT syntax: 2a");
  expect_error("PORT=+2025", "Bad PORT syntax: +2025");  // decodes to " 25"
  expect_error("DESTPORT=[TEMPUNAVAIL]", "Bad DESTPORT syntax: [TEMPUNAVAIL]");
}

// --- PROTO ---------------------------------------------------------------------

TEST(Xclient, Proto) {
  expect_value(parse_ok("PROTO=SMTP").proto, "SMTP");
  expect_value(parse_ok("PROTO=esmtp").proto, "ESMTP");
  expect_error("PROTO=FOO", "Bad PROTO syntax: FOO");
  expect_error("PROTO=LMTP", "Bad PROTO syntax: LMTP");
  expect_error("PROTO=ESMTPS", "Bad PROTO syntax: ESMTPS");
  expect_error("PROTO=[UNAVAILABLE]", "Bad PROTO syntax: [UNAVAILABLE]");
}

// --- NAME / REVERSE_NAME ------------------------------------------------------

TEST(Xclient, NameSpecialValuesAnyCase) {
  expect_special(parse_ok("NAME=[tempunavail]").name, XclientSpecial::tempunavail);
  expect_special(parse_ok("NAME=[Unavailable]").name, XclientSpecial::unavailable);
  // The very old spelling is no longer a special value, nor a host name.
  expect_error("NAME=[TEMPORARY]", "Bad NAME syntax: [TEMPORARY]");
}

TEST(Xclient, TempunavailIsSpecialOnlyForNames) {
  // xclient.md s4: elsewhere it is an ordinary value, kept literally where
  // the syntax allows and refused where it does not.
  expect_value(parse_ok("HELO=[TEMPUNAVAIL]").helo, "[TEMPUNAVAIL]");
  expect_value(parse_ok("LOGIN=[tempunavail]").login, "[tempunavail]");
  expect_error("PORT=[TEMPUNAVAIL]", "Bad PORT syntax: [TEMPUNAVAIL]");
}

TEST(Xclient, GoodNames) {
  expect_value(parse_ok("NAME=mail.example.org").name, "mail.example.org");
  expect_value(parse_ok("NAME=Mail-1.Example.ORG").name, "Mail-1.Example.ORG");
  expect_value(parse_ok("NAME=host_1.example").name, "host_1.example");
  expect_value(parse_ok("NAME=localhost").name, "localhost");
  expect_value(parse_ok("NAME=1.2.3.example").name, "1.2.3.example");
  expect_value(parse_ok("NAME=" + std::string(63, 'a') + ".example").name,
               std::string(63, 'a') + ".example");
}

TEST(Xclient, BadNames) {
  expect_error("NAME=192.0.2.1", "Bad NAME syntax: 192.0.2.1");  // RFC 1123 s2.1
  expect_error("NAME=host.123", "Bad NAME syntax: host.123");
  expect_error("NAME=a..example", "Bad NAME syntax: a..example");
  expect_error("NAME=.example", "Bad NAME syntax: .example");
  expect_error("NAME=host.example.", "Bad NAME syntax: host.example.");
  expect_error("NAME=-a.example", "Bad NAME syntax: -a.example");
  expect_error("NAME=a-.example", "Bad NAME syntax: a-.example");
  expect_error("NAME=a@b.example", "Bad NAME syntax: a@b.example");
  expect_error("NAME=[192.0.2.1]", "Bad NAME syntax: [192.0.2.1]");
  const std::string label64(64, 'a');
  // The echo is cut to 64 octets to keep the reply line short.
  expect_error("NAME=" + label64 + ".example", "Bad NAME syntax: " + label64 + "...");
}

TEST(Xclient, NameIsNotXtextDecoded) {
  // nginx sends NAME raw; a host name never needs escaping, so "+2E" is
  // junk rather than a dot.
  expect_error("NAME=host+2Eexample", "Bad NAME syntax: host+2Eexample");
}

TEST(Xclient, ReverseNameIsCheckedButIgnored) {
  const auto a = parse_ok("REVERSE_NAME=rev.example ADDR=192.0.2.1");
  EXPECT_FALSE(a.name.has_value());
  expect_value(a.addr, "192.0.2.1");
  EXPECT_TRUE(parse_xclient_args("REVERSE_NAME=[TEMPUNAVAIL]").ok);
  expect_error("REVERSE_NAME=bad..name", "Bad REVERSE_NAME syntax: bad..name");
}

}  // namespace
}  // namespace sluice::protocol
