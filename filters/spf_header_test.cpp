// Received-SPF and the Authentication-Results fragment: layout, and that
// hostile values (from the client or from DNS) cannot break the header.
#include "filters/spf_header.hpp"

#include <gtest/gtest.h>

namespace sluice::filters {
namespace {

TEST(SpfHeader, PassLayoutRfc7208Section91) {
  SpfRequest q = make_mail_from_request(*gateway::parse_ip("2001:db8::1"), "a@example.com", "c.example.com", "mx.example.net");
  SpfResult r;
  r.verdict = SpfVerdict::pass;
  r.identity = SpfIdentity::mailfrom;
  r.sender = q.sender;
  r.domain = q.domain;
  r.mechanism = "ip6:2001:db8::/32";
  EXPECT_EQ(received_spf_header(r, q),
            "Received-SPF: pass (mx.example.net: domain of a@example.com designates 2001:db8::1 as permitted sender) "
            "client-ip=2001:db8::1; envelope-from=\"a@example.com\"; helo=c.example.com; receiver=mx.example.net; "
            "identity=mailfrom; mechanism=\"ip6:2001:db8::/32\"");
}

TEST(SpfHeader, HostileValuesAreQuotedAndCannotEndTheLine) {
  SpfRequest q = make_mail_from_request(*gateway::parse_ip("192.0.2.1"), "", "evil\r\nX-Injected: 1\"; receiver=x", "mx");
  SpfResult r;
  r.verdict = SpfVerdict::permerror;
  r.identity = SpfIdentity::helo;
  r.sender = q.sender;
  r.domain = q.domain;
  r.problem = "SPF record of x: bad (\"quoted\") \\ \x01";
  const std::string h = received_spf_header(r, q);
  EXPECT_EQ(h.find('\r'), std::string::npos);
  EXPECT_EQ(h.find('\n'), std::string::npos);
  EXPECT_EQ(h.find('\x01'), std::string::npos);
  EXPECT_NE(h.find("helo=\"evil??X-Injected: 1\\\"; receiver=x\";"), std::string::npos) << h;
  EXPECT_NE(h.find("problem=\"SPF record of x: bad (\\\"quoted\\\") \\\\ ?\""), std::string::npos) << h;
  EXPECT_EQ(h.find("envelope-from"), std::string::npos);  // HELO identity: no MAIL FROM to show
  const std::string ar = authentication_results_spf(r);
  EXPECT_EQ(ar.find('\n'), std::string::npos);
  EXPECT_TRUE(ar.starts_with("spf=permerror (SPF record of x: bad \\(\"quoted\"\\) \\\\ ?) smtp.helo=\"evil??")) << ar;
}

TEST(SpfHeader, AddressWithAnOddLocalPartIsQuotedInAuthenticationResults) {
  SpfResult r;
  r.verdict = SpfVerdict::softfail;
  r.sender = "we ird@example.com";
  EXPECT_EQ(authentication_results_spf(r), "spf=softfail smtp.mailfrom=\"we ird@example.com\"");
  r.sender = "first.last@example.com";
  EXPECT_EQ(authentication_results_spf(r), "spf=softfail smtp.mailfrom=first.last@example.com");
}

TEST(SpfHeader, AuthenticationResultsValuesAreTokensOrAddressesOrQuoted) {
  // RFC 8601 2.2: a pvalue is a MIME token (RFC 2045 5.1: no tspecials such
  // as / = ? @), an addr-spec with a domain name, or a quoted-string. A
  // dot-atom (Received-SPF's rule) is not enough: "a=b/c.example" is one.
  const auto helo_result = [](const std::string& helo) {
    SpfRequest q = make_mail_from_request(*gateway::parse_ip("192.0.2.1"), "", helo, "mx.example.net");
    SpfResult r;
    r.verdict = SpfVerdict::none;
    r.identity = q.identity;
    r.sender = q.sender;
    r.domain = q.domain;
    return authentication_results_spf(r);
  };
  EXPECT_EQ(helo_result("a=b/c.example"), "spf=none smtp.helo=\"a=b/c.example\"");
  EXPECT_EQ(helo_result("x?y.example"), "spf=none smtp.helo=\"x?y.example\"");
  EXPECT_EQ(helo_result("client.example.com"), "spf=none smtp.helo=client.example.com");
  EXPECT_EQ(helo_result("under_score.example"), "spf=none smtp.helo=under_score.example");  // a token

  SpfResult r;
  r.verdict = SpfVerdict::pass;
  const auto mailfrom = [&r](const std::string& sender) {
    r.sender = sender;
    return authentication_results_spf(r);
  };
  EXPECT_EQ(mailfrom("first.last+tag@example.com"), "spf=pass smtp.mailfrom=first.last+tag@example.com");
  EXPECT_EQ(mailfrom("user@a/b.example"), "spf=pass smtp.mailfrom=\"user@a/b.example\"");  // not a domain name
  EXPECT_EQ(mailfrom("user@a=b.example"), "spf=pass smtp.mailfrom=\"user@a=b.example\"");
  EXPECT_EQ(mailfrom("user@-x.example"), "spf=pass smtp.mailfrom=\"user@-x.example\"");
  EXPECT_EQ(mailfrom("a=b@example.com"), "spf=pass smtp.mailfrom=\"a=b@example.com\"");
  EXPECT_EQ(mailfrom("x@[192.0.2.1]"), "spf=pass smtp.mailfrom=\"x@[192.0.2.1]\"");
}

}  // namespace
}  // namespace sluice::filters
