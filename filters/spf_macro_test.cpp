// SPF macro expansion: the examples of RFC 7208 7.4, URL escaping, the
// explanation-only letters, syntax errors and long names.
#include "filters/spf_macro.hpp"

#include <gtest/gtest.h>

namespace sluice::filters {
namespace {

class SpfMacro : public ::testing::Test {
 protected:
  SpfMacro() {
    v.sender = "strong-bad@email.example.com";
    v.local_part = "strong-bad";
    v.sender_domain = "email.example.com";
    v.domain = "email.example.com";
    v.ip = *gateway::parse_ip("192.0.2.3");
    v.helo = "mx.example.org";
    v.receiver = "gw.example.net";
    v.now = 1700000000;
  }
  std::string expand(std::string_view s, MacroUse use = MacroUse::domain_spec) {
    auto r = expand_macros(s, v, use);
    if (!r) ADD_FAILURE() << s << " did not expand";
    return r.value_or("");
  }
  SpfMacroValues v;
};

TEST_F(SpfMacro, Rfc7208Section74Examples) {
  EXPECT_EQ(expand("%{s}"), "strong-bad@email.example.com");
  EXPECT_EQ(expand("%{o}"), "email.example.com");
  EXPECT_EQ(expand("%{d}"), "email.example.com");
  EXPECT_EQ(expand("%{d4}"), "email.example.com");
  EXPECT_EQ(expand("%{d3}"), "email.example.com");
  EXPECT_EQ(expand("%{d2}"), "example.com");
  EXPECT_EQ(expand("%{d1}"), "com");
  EXPECT_EQ(expand("%{dr}"), "com.example.email");
  EXPECT_EQ(expand("%{d2r}"), "example.email");
  EXPECT_EQ(expand("%{l}"), "strong-bad");
  EXPECT_EQ(expand("%{l-}"), "strong.bad");
  EXPECT_EQ(expand("%{lr}"), "strong-bad");
  EXPECT_EQ(expand("%{lr-}"), "bad.strong");
  EXPECT_EQ(expand("%{l1r-}"), "strong");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}"), "3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp._spf.%{d2}"), "bad.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}"), "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}"), "3.2.0.192.in-addr.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{d2}.trusted-domains.example.net"), "example.com.trusted-domains.example.net");
}

TEST_F(SpfMacro, Ipv6AddressAsNibbles) {
  v.ip = *gateway::parse_ip("2001:db8::cb01");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}"),
            "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com");
  EXPECT_EQ(expand("%{c}", MacroUse::explanation), "2001:db8::cb01");
}

TEST_F(SpfMacro, UpperCaseLettersAreUrlEscaped) {
  v.local_part = "a b/c~d";
  EXPECT_EQ(expand("%{L}"), "a%20b%2Fc~d");
  EXPECT_EQ(expand("%{S}"), "strong-bad%40email.example.com");
  EXPECT_EQ(expand("%%-%_-%-"), "%- -%20");
}

TEST_F(SpfMacro, ExplanationLettersOnlyInExplanations) {
  EXPECT_FALSE(is_valid_macro_string("%{c}", MacroUse::domain_spec));
  EXPECT_FALSE(is_valid_macro_string("%{r}.example.com", MacroUse::domain_spec));
  EXPECT_FALSE(is_valid_macro_string("a b", MacroUse::domain_spec));
  EXPECT_EQ(expand("%{c} via %{r} at %{t} for %{h}", MacroUse::explanation),
            "192.0.2.3 via gw.example.net at 1700000000 for mx.example.org");
  v.receiver = "";
  EXPECT_EQ(expand("%{r}", MacroUse::explanation), "unknown");
}

TEST_F(SpfMacro, SyntaxErrors) {
  for (const char* bad : {"%", "%{", "%{d", "%{x}", "%{d0}", "%{d2x}", "%x", "a%", "\x01", "caf\xc3\xa9"})
    EXPECT_FALSE(is_valid_macro_string(bad, MacroUse::explanation)) << bad;
  EXPECT_TRUE(is_valid_macro_string("%{d2r+-=}", MacroUse::domain_spec));
}

TEST_F(SpfMacro, ValidatedNameAndMentions) {
  EXPECT_EQ(expand("%{p}"), "unknown");
  v.validated_name = "mx.example.com";
  EXPECT_EQ(expand("%{p2}"), "example.com");
  EXPECT_TRUE(mentions_macro("x.%{P}.y", 'p'));
  EXPECT_FALSE(mentions_macro("x.%%{p}.y", 'p'));
  EXPECT_FALSE(mentions_macro("%{d}", 'p'));
}

TEST_F(SpfMacro, TooLongNamesLoseLabelsFromTheLeft) {
  std::string name;
  for (int i = 0; i < 40; ++i) name += "label" + std::to_string(i) + ".";
  name += "example.com";
  const std::string shortened = shorten_domain(name);
  EXPECT_LE(shortened.size(), 253u);
  EXPECT_TRUE(shortened.ends_with(".example.com"));
  EXPECT_TRUE(name.ends_with(shortened));
  EXPECT_EQ(name[name.size() - shortened.size() - 1], '.');
  EXPECT_EQ(shorten_domain("example.com"), "example.com");
}

}  // namespace
}  // namespace sluice::filters
