// The SPF record parser: every mechanism and modifier, and the syntax errors
// that make a record a permerror before anything is evaluated (RFC 7208 4.6).
#include "filters/spf_record.hpp"

#include <gtest/gtest.h>

#include "filters/resolver.hpp"

namespace sluice::filters {
namespace {

SpfRecord parse_ok(std::string_view text) {
  auto r = parse_spf_record(text);
  if (auto* e = std::get_if<SpfSyntaxError>(&r)) ADD_FAILURE() << text << ": " << e->message;
  return std::get_if<SpfRecord>(&r) ? std::get<SpfRecord>(r) : SpfRecord{};
}

bool is_error(std::string_view text) { return std::holds_alternative<SpfSyntaxError>(parse_spf_record(text)); }

TEST(SpfRecord, RecognisesVersionOneOnly) {
  EXPECT_TRUE(is_spf_record("v=spf1"));
  EXPECT_TRUE(is_spf_record("V=SPF1 -all"));
  EXPECT_FALSE(is_spf_record("v=spf10 -all"));
  EXPECT_FALSE(is_spf_record("v=spf1\t-all"));
  EXPECT_FALSE(is_spf_record(" v=spf1 -all"));
  EXPECT_FALSE(is_spf_record("spf2.0/pra -all"));
}

TEST(SpfRecord, EveryMechanismWithQualifiersAndLengths) {
  const SpfRecord r = parse_ok(
      "v=spf1 +a -a:mail.example.com/24 ~mx//64 ?mx:example.org/28//96 ptr ptr:example.net "
      "ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.com exists:%{ir}.bl.example.com ALL");
  ASSERT_EQ(r.mechanisms.size(), 11u);
  EXPECT_EQ(r.mechanisms[0].kind, SpfMechanismKind::a);
  EXPECT_EQ(r.mechanisms[0].domain_spec, "");
  EXPECT_EQ(r.mechanisms[1].qualifier, SpfQualifier::fail);
  EXPECT_EQ(r.mechanisms[1].domain_spec, "mail.example.com");
  EXPECT_EQ(r.mechanisms[1].cidr4, 24u);
  EXPECT_EQ(r.mechanisms[1].cidr6, 128u);
  EXPECT_EQ(r.mechanisms[2].qualifier, SpfQualifier::softfail);
  EXPECT_EQ(r.mechanisms[2].cidr4, 32u);
  EXPECT_EQ(r.mechanisms[2].cidr6, 64u);
  EXPECT_EQ(r.mechanisms[3].qualifier, SpfQualifier::neutral);
  EXPECT_EQ(r.mechanisms[3].domain_spec, "example.org");
  EXPECT_EQ(r.mechanisms[3].cidr4, 28u);
  EXPECT_EQ(r.mechanisms[3].cidr6, 96u);
  EXPECT_EQ(r.mechanisms[5].domain_spec, "example.net");
  EXPECT_EQ(ip_text(r.mechanisms[6].network), "192.0.2.0");
  EXPECT_EQ(r.mechanisms[6].cidr4, 24u);
  EXPECT_EQ(ip_text(r.mechanisms[7].network), "2001:db8::");
  EXPECT_EQ(r.mechanisms[7].cidr6, 32u);
  EXPECT_EQ(r.mechanisms[8].kind, SpfMechanismKind::include);
  EXPECT_EQ(r.mechanisms[9].domain_spec, "%{ir}.bl.example.com");
  EXPECT_EQ(r.mechanisms[10].kind, SpfMechanismKind::all);
  EXPECT_EQ(r.mechanisms[10].text, "ALL");
}

TEST(SpfRecord, ModifiersAndTrailingSpaces) {
  const SpfRecord r = parse_ok("v=spf1  mx  redirect=_spf.example.com exp=explain.%{d} moo=%{l}.cow   ");
  ASSERT_EQ(r.mechanisms.size(), 1u);
  EXPECT_EQ(r.redirect, "_spf.example.com");
  EXPECT_EQ(r.exp, "explain.%{d}");
  EXPECT_EQ(parse_ok("v=spf1").mechanisms.size(), 0u);
}

TEST(SpfRecord, SyntaxErrorsArePermanent) {
  for (const char* bad : {
           "v=spf1 foo",                       // unknown mechanism
           "v=spf1 a:example.com/33",          // IPv4 length over 32
           "v=spf1 a//129",                    // IPv6 length over 128
           "v=spf1 ip4:192.0.2.0/024",         // leading zero
           "v=spf1 ip4:192.0.2",               // three octets
           "v=spf1 ip4:192.0.2.256",           // octet over 255
           "v=spf1 ip6:192.0.2.1",             // an IPv4 address in ip6
           "v=spf1 ip4:192.0.2.1//64",         // dual length on ip4
           "v=spf1 include",                   // include needs a domain
           "v=spf1 exists",                    // so does exists
           "v=spf1 all:example.com",           // all takes nothing
           "v=spf1 a:example.123",             // a numeric top label
           "v=spf1 a:localhost",               // no "." toplabel
           "v=spf1 redirect=a.example.com redirect=b.example.com",
           "v=spf1 exp=a.example.com exp=b.example.com",
           "v=spf1 -redirect=a.example.com",   // a qualifier on a modifier
           "v=spf1 a:%{x}.example.com",        // unknown macro letter
           "v=spf1 a:%{c}.example.com",        // c is for explanations only
           "v=spf1 exists:%{d0}.example.com",  // zero parts
           "v=spf1 exists:%.example.com",      // bare percent
           "v=spf1 moo=%{",                    // unknown modifier with a broken macro
           "v=spf1 a\t-all",                   // tab is not a separator
           "v=spf1 a:example.com\r-all",       // nor is CR
           "v=spf1 \x80" "a -all",             // non-ASCII
       })
    EXPECT_TRUE(is_error(bad)) << bad;
}

TEST(SpfRecord, DomainSpecEndingInAMacroOrWithATrailingDot) {
  EXPECT_FALSE(is_error("v=spf1 a:%{d}"));
  EXPECT_FALSE(is_error("v=spf1 include:example.com."));
  EXPECT_FALSE(is_error("v=spf1 a:mail-1.example.co-op"));
  EXPECT_FALSE(is_error("v=spf1 exists:%{l1r+-}.%{d2}"));
}

}  // namespace
}  // namespace sluice::filters
