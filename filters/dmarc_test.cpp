// DMARC pieces without DNS: the record grammar, alignment and organizational
// domains (with the Public Suffix List project's own vectors when
// ../shared/conformance is present), and the Authentication-Results words.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "filters/dmarc_check.hpp"
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
  EXPECT_TRUE(fallback->p_invalid_fallback);
  auto bad_optional = parse("v=DMARC1; p=quarantine; pct=500; adkim=x; fo=9; ri=-1; rua=http://x.test");
  ASSERT_TRUE(bad_optional);  // bad optional values fall back to their defaults
  EXPECT_EQ(bad_optional->pct, 100u);
  EXPECT_EQ(bad_optional->adkim, 'r');
  EXPECT_EQ(bad_optional->fo, "0");
  EXPECT_TRUE(bad_optional->rua.empty());
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
  r.from_domain = "bad;domain";
  EXPECT_EQ(authentication_results_dmarc(r), "dmarc=temperror header.from=bad?domain");
  r.status = DmarcStatus::off;
  EXPECT_EQ(authentication_results_dmarc(r), "");
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
