// DMARC pieces without DNS: the record grammar, policy discovery over an
// in-memory table of TXT records, alignment and organizational domains (with
// the Public Suffix List project's own vectors when ../shared/conformance is
// present), and the Authentication-Results words.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <map>
#include <regex>

#include "filters/dmarc_check.hpp"
#include "filters/dmarc_history.hpp"
#include "filters/dmarc_record.hpp"
#include "filters/filter_chain.hpp"
#include "filters/public_suffix.hpp"
#include "tests/conformance_support.hpp"

namespace sluice::filters {
namespace {

std::optional<DmarcRecord> parse(std::string_view txt) {
  std::string error;
  return parse_dmarc_record(txt, error);
}

TEST(DmarcRecord, TagsAndDefaults) {
  auto r = parse("v=DMARC1; p=reject; sp=none; pct=20; adkim=s; aspf=s; rua=mailto:a@x.test,mailto:b@x.test!10m; "
                 "ruf=mailto:f@x.test; fo=1:d; ri=3600; rf=afrf; future=thing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, "reject");
  EXPECT_EQ(r->sp, "none");
  EXPECT_EQ(r->pct, 20u);
  EXPECT_EQ(r->adkim, 's');
  EXPECT_EQ(r->aspf, 's');
  EXPECT_EQ(r->rua, (std::vector<std::string>{"mailto:a@x.test", "mailto:b@x.test!10m"}));
  EXPECT_EQ(r->ruf, (std::vector<std::string>{"mailto:f@x.test"}));
  EXPECT_EQ(r->fo, "1:d");
  EXPECT_EQ(r->ri, 3600u);
  auto d = parse("v=DMARC1;p=none");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->pct, 100u);
  EXPECT_EQ(d->adkim, 'r');
  EXPECT_EQ(d->fo, "0");
  EXPECT_TRUE(d->sp.empty());
}

TEST(DmarcRecord, WhatIsNotARecord) {
  EXPECT_FALSE(parse("v=dmarc1; p=reject"));       // the value is exact octets
  EXPECT_FALSE(parse("p=reject; v=DMARC1"));       // v first
  EXPECT_FALSE(parse("v=DMARC1"));                 // no p, no rua
  EXPECT_FALSE(parse("v=DMARC1; p=maybe"));        // bad p, no rua
  EXPECT_FALSE(parse("v=DMARC1; p=reject; v=DMARC1"));
  EXPECT_FALSE(parse("v=spf1 -all"));
  EXPECT_TRUE(parse(" V = DMARC1 ; P = Reject "));  // tag names any case, spaces around = and ;
  auto fallback = parse("v=DMARC1; p=maybe; rua=mailto:r@x.test");  // RFC 7489 6.6.3: as p=none
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->p, "none");
  EXPECT_TRUE(fallback->invalid_policy_fallback);
  auto bad_optional = parse("v=DMARC1; p=quarantine; pct=500; adkim=x; fo=9; ri=-1; rua=http://x.test");
  ASSERT_TRUE(bad_optional);  // bad optional values fall back to their defaults
  EXPECT_EQ(bad_optional->pct, 100u);
  EXPECT_EQ(bad_optional->adkim, 'r');
  EXPECT_EQ(bad_optional->fo, "0");
  EXPECT_TRUE(bad_optional->rua.empty());
}

TEST(DmarcRecord, AnInvalidSpIsLikeAnInvalidP) {
  // RFC 7489 6.6.3 step 6: an invalid p= or an invalid sp= (when present)
  // with a valid rua= is read as "v=DMARC1; p=none"; without one, as no record.
  EXPECT_FALSE(parse("v=DMARC1; p=reject; sp=rejct"));
  EXPECT_FALSE(parse("v=DMARC1; p=reject; sp="));
  auto bad_sp = parse("v=DMARC1; p=reject; sp=rejct; rua=mailto:r@x.test");
  ASSERT_TRUE(bad_sp);
  EXPECT_EQ(bad_sp->p, "none");
  EXPECT_TRUE(bad_sp->sp.empty());
  EXPECT_TRUE(bad_sp->invalid_policy_fallback);
  auto bad_p = parse("v=DMARC1; p=bogus; sp=reject; rua=mailto:r@x.test");
  ASSERT_TRUE(bad_p);
  EXPECT_EQ(bad_p->p, "none");
  EXPECT_TRUE(bad_p->sp.empty());  // the valid sp= does not survive the bad p=
  EXPECT_TRUE(bad_p->invalid_policy_fallback);
  auto good = parse("v=DMARC1; p=reject; sp=Quarantine");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->sp, "quarantine");
  EXPECT_FALSE(good->invalid_policy_fallback);
}

// TXT records from a table: a name not in it is NXDOMAIN.
class TxtTable final : public Resolver {
 public:
  explicit TxtTable(std::map<std::string, std::string> records) : records_(std::move(records)) {}
  boost::asio::awaitable<DnsAnswer> query(std::string_view name, DnsType) override {
    DnsAnswer a;
    const auto it = records_.find(std::string(name));
    if (it == records_.end()) {
      a.status = DnsStatus::nxdomain;
      co_return a;
    }
    a.status = DnsStatus::ok;
    a.texts.push_back({it->second, {it->second}});
    co_return a;
  }

 private:
  std::map<std::string, std::string> records_;
};

// check_dmarc for an unaligned message from `author` (no SPF, no DKIM).
DmarcResult check_unaligned(const std::map<std::string, std::string>& records, const std::string& author) {
  auto psl = shared_public_suffix_list();
  EXPECT_TRUE(psl);
  TxtTable resolver(records);
  DmarcRequest request;
  request.from.state = FromHeaderFacts::State::ok;
  request.from.address = "a@" + author;
  request.from.domain = author;
  boost::asio::io_context ctx;
  DmarcResult got;
  boost::asio::co_spawn(ctx, check_dmarc(resolver, *psl, request), [&](std::exception_ptr e, DmarcResult r) {
    EXPECT_FALSE(e);
    got = std::move(r);
  });
  ctx.run();
  return got;
}

TEST(DmarcCheck, AnInvalidSpIsNeverEnforced) {
  // p=reject with a misspelt sp=: no DMARC processing at all ...
  auto r = check_unaligned({{"_dmarc.example.com", "v=DMARC1; p=reject; sp=rejct"}}, "example.com");
  EXPECT_EQ(r.status, DmarcStatus::norecord) << r.status_text;
  // ... or, with a rua= to report to, p=none.
  r = check_unaligned({{"_dmarc.example.com", "v=DMARC1; p=reject; sp=rejct; rua=mailto:r@example.com"}},
                      "example.com");
  EXPECT_EQ(r.status, DmarcStatus::none) << r.status_text;
  EXPECT_EQ(r.domain_policy, "none");
  // A bad p= at the organizational domain: its valid sp= must not reach a subdomain.
  r = check_unaligned({{"_dmarc.example.com", "v=DMARC1; p=bogus; sp=reject; rua=mailto:r@example.com"}},
                      "mail.example.com");
  EXPECT_EQ(r.used_domain, "example.com");
  EXPECT_EQ(r.status, DmarcStatus::none) << r.status_text;
  EXPECT_EQ(r.domain_policy, "none");
  // A valid sp= still applies to subdomains.
  r = check_unaligned({{"_dmarc.example.com", "v=DMARC1; p=none; sp=reject"}}, "mail.example.com");
  EXPECT_EQ(r.status, DmarcStatus::reject) << r.status_text;
}

TEST(DmarcAlignment, StrictAndRelaxed) {
  auto psl = shared_public_suffix_list();
  ASSERT_TRUE(psl);
  EXPECT_TRUE(dmarc_aligned(*psl, "example.com", "EXAMPLE.com", true));
  EXPECT_FALSE(dmarc_aligned(*psl, "example.com", "mail.example.com", true));
  EXPECT_TRUE(dmarc_aligned(*psl, "example.com", "mail.example.com", false));
  EXPECT_TRUE(dmarc_aligned(*psl, "a.example.co.uk", "b.example.co.uk", false));
  EXPECT_FALSE(dmarc_aligned(*psl, "example.co.uk", "other.co.uk", false));
  EXPECT_FALSE(dmarc_aligned(*psl, "example.com", "", false));
  EXPECT_EQ(psl->organizational_domain("Mail.Example.COM."), "example.com");
  EXPECT_EQ(psl->organizational_domain("co.uk"), "co.uk");
}

TEST(DmarcAuthenticationResults, Words) {
  DmarcResult r;
  r.status = DmarcStatus::accept;
  r.domain_policy = "reject";
  r.from_domain = "example.com";
  EXPECT_EQ(authentication_results_dmarc(r), "dmarc=pass (p=reject dis=none) header.from=example.com");
  r.status = DmarcStatus::quarantine;
  EXPECT_EQ(authentication_results_dmarc(r), "dmarc=fail (p=reject dis=quarantine) header.from=example.com");
  r.status = DmarcStatus::norecord;
  EXPECT_EQ(authentication_results_dmarc(r), "dmarc=none header.from=example.com");
  r.status = DmarcStatus::nofrom;
  EXPECT_EQ(authentication_results_dmarc(r), "dmarc=permerror (no single From address)");
  r.status = DmarcStatus::temperror;
  r.from_domain = "bad;domain";  // never a token (RFC 8601 2.2): quoted, not mangled into one
  EXPECT_EQ(authentication_results_dmarc(r), "dmarc=temperror header.from=\"bad;domain\"");
  r.from_domain = "a/b=c.example";
  EXPECT_EQ(authentication_results_dmarc(r), "dmarc=temperror header.from=\"a/b=c.example\"");
  r.status = DmarcStatus::off;
  EXPECT_EQ(authentication_results_dmarc(r), "");
}

TEST(DmarcHistory, AnRsaSha1SignatureIsRecordedAsPolicy) {
  // OpenDMARC's result codes (ARES_RESULT_*): its report writer prints 8 as
  // "policy", RFC 7489 Appendix C's DKIMResultType for a refused signature.
  FilterResults results;
  results.dmarc.emplace();
  results.dmarc->status = DmarcStatus::reject;
  results.dmarc->from_domain = "example.com";
  results.dkim.emplace_back();
  results.dkim.back().status = DkimStatus::policy;
  results.dkim.back().reason = DkimReason::rsa_sha1;
  results.dkim.back().domain = "example.com";
  results.dkim.back().selector = "sel";
  const std::string record = dmarc_history_record(results, {});
  EXPECT_NE(record.find("\ndkim example.com sel 8\n"), std::string::npos) << record;
}

// The Public Suffix List project's registrable-domain vectors.
TEST(PublicSuffixVectors, TestPslTxt) {
  const std::string file = conformance::suite_path("dmarc/psl/test_psl.txt");
  if (file.empty()) GTEST_SKIP() << "../shared/conformance/dmarc/psl/test_psl.txt is absent: the PSL vectors were not run";
  auto psl = shared_public_suffix_list();
  ASSERT_TRUE(psl);
  std::ifstream in(file);
  const std::regex vector(R"(^checkPublicSuffix\((null|'[^']*'), (null|'[^']*')\);)");
  std::string line;
  int run = 0, passed = 0;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, vector)) continue;  // comments, commented-out vectors
    if (m[1] == "null") continue;                        // a null pointer: nothing to ask in C++
    ++run;
    const std::string input = m[1].str().substr(1, m[1].length() - 2);
    const std::string want = m[2] == "null" ? "" : m[2].str().substr(1, m[2].length() - 2);
    const std::string got = psl->registrable_domain(input).value_or("");
    EXPECT_EQ(got, want) << line;
    if (got == want) ++passed;
  }
  std::printf("PSL vectors: %d/%d\n", passed, run);
  EXPECT_GT(run, 70);
}

}  // namespace
}  // namespace sluice::filters
