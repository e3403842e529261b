// The DMARC evaluation cases of ../shared/conformance/dmarc/cases.yaml, run
// through check_dmarc() against a REAL DNS server: each case's records are
// served by its own unbound (local-zone "." static, so any name not listed
// is NXDOMAIN; TEMPFAIL names are a `refuse` zone, which our resolver
// reports as servfail), asked through AresResolver; organizational domains
// come from Debian's Public Suffix List through libpsl (the cases' README
// says the full list gives the same answers as the cases' tiny one). The
// YAML is read by Debian's python3-yaml and handed over as JSON. Cases of
// the optional rfc9091 profile (the np= tag) are counted apart: np= is not
// implemented. Skips, saying so, when the suite is absent.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <cstdio>

#include "filters/ares_resolver.hpp"
#include "filters/dmarc_check.hpp"
#include "filters/dns_test_server.hpp"
#include "filters/filter_chain.hpp"
#include "filters/public_suffix.hpp"
#include "tests/conformance_support.hpp"

namespace sluice::filters {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

std::string text(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

// One TXT RR in unbound's presentation format: each character-string quoted
// (the cases are printable ASCII; quotes and backslashes escaped).
std::string rdata(const json::value& rr) {
  std::vector<std::string> strings;
  if (rr.is_array())
    for (const auto& s : rr.as_array()) strings.push_back(text(s));
  else
    strings.push_back(text(rr));
  std::string out;
  for (const auto& s : strings) {
    if (!out.empty()) out += ' ';
    out += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

std::string expected_result(DmarcStatus s) {
  switch (s) {
    case DmarcStatus::accept: return "pass";
    case DmarcStatus::reject:
    case DmarcStatus::quarantine:
    case DmarcStatus::none: return "fail";
    case DmarcStatus::norecord: return "none";
    case DmarcStatus::temperror: return "temperror";
    default: return std::string(to_string(s));
  }
}

// What to enact: the policy on a failure, "none" otherwise (a pass, no record, an error).
std::string disposition(const DmarcResult& r) {
  if (r.status == DmarcStatus::reject || r.status == DmarcStatus::quarantine) return std::string(to_string(r.status));
  return "none";
}

TEST(DmarcConformance, CasesYaml) {
  const std::string file = conformance::suite_path("dmarc/cases.yaml");
  if (file.empty()) GTEST_SKIP() << "../shared/conformance/dmarc/cases.yaml is absent: the DMARC cases were not run";
  std::string why;
  auto suite = conformance::yaml_as_json(file, false, why);
  ASSERT_TRUE(suite) << why;
  std::string psl_error;
  auto psl = shared_public_suffix_list(&psl_error);
  ASSERT_TRUE(psl) << psl_error;

  int run = 0, passed = 0, optional_profile = 0;
  for (const auto& c : suite->at("cases").as_array()) {
    const auto& o = c.as_object();
    const std::string id = text(o.at("id"));
    if (o.contains("profile")) {
      ++optional_profile;
      continue;
    }
    ++run;
    std::vector<std::string> records, extra;
    if (const auto* dns = o.if_contains("dns"))
      for (const auto& [name, rrs] : dns->as_object()) {
        const std::string owner = std::string(name) + ".";
        if (rrs.is_string() && rrs.as_string() == "TEMPFAIL") {
          extra.push_back("local-zone: \"" + owner + "\" refuse");
          continue;
        }
        for (const auto& rr : rrs.as_array()) records.push_back(owner + " 300 IN TXT " + rdata(rr));
      }
    testing::UnboundServer server({"."}, records, extra);
    ASSERT_EQ(server.start(), "") << id;
    gateway::DnsConfig dc;
    dc.servers = {"127.0.0.1"};
    dc.port = server.port();
    dc.timeout = std::chrono::milliseconds(2000);
    dc.tries = 1;
    asio::io_context ctx;
    AresResolver resolver(ctx, dc);

    DmarcRequest req;
    const std::string from = text(o.at("from"));
    req.from.state = FromHeaderFacts::State::ok;
    req.from.address = from;
    req.from.domain = from.substr(from.rfind('@') + 1);
    const auto& spf = o.at("spf").as_object();
    const std::string spf_result = text(spf.at("result"));
    req.spf = spf_result == "pass" ? SpfVerdict::pass : spf_result == "fail" ? SpfVerdict::fail
              : spf_result == "softfail" ? SpfVerdict::softfail : spf_result == "neutral" ? SpfVerdict::neutral
                                                                                            : SpfVerdict::none;
    req.spf_domain = text(spf.at("domain"));
    for (const auto& d : o.at("dkim").as_array())
      req.dkim.push_back({text(d.at("d")), text(d.at("result")) == "pass"});

    DmarcResult got;
    asio::co_spawn(ctx, check_dmarc(resolver, *psl, req), [&](std::exception_ptr e, DmarcResult r) {
      if (!e) got = std::move(r);
    });
    ctx.run();

    const auto& ex = o.at("expect").as_object();
    std::string problems;
    auto check = [&](const std::string& what, const std::string& want, const std::string& have) {
      if (want != have) problems += " " + what + ": want \"" + want + "\", got \"" + have + "\";";
    };
    check("result", text(ex.at("result")), expected_result(got.status));
    const bool has_policy = got.record.has_value();
    check("policy_domain", text(ex.at("policy_domain")), has_policy ? got.used_domain : "");
    check("policy", text(ex.at("policy")), has_policy ? got.domain_policy : "");
    if (const auto* d = ex.if_contains("disposition")) check("disposition", text(*d), disposition(got));
    if (const auto* a = ex.if_contains("dkim_aligned"))
      check("dkim_aligned", a->as_bool() ? "true" : "false", got.dkim_aligned ? "true" : "false");
    if (const auto* a = ex.if_contains("spf_aligned"))
      check("spf_aligned", a->as_bool() ? "true" : "false", got.spf_aligned ? "true" : "false");
    EXPECT_TRUE(problems.empty()) << id << ":" << problems << " (" << got.status_text << ")";
    if (problems.empty()) ++passed;
  }
  std::printf("DMARC cases: %d/%d RFC 7489 cases pass; %d rfc9091 (np=) cases not run\n", passed, run,
              optional_profile);
  EXPECT_GT(run, 25);
}

}  // namespace
}  // namespace sluice::filters
