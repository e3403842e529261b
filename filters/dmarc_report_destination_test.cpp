// RFC 7489 7.1's check of outside report destinations, against a real
// unbound on loopback.
#include "filters/dmarc_report_destination.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include "filters/ares_resolver.hpp"
#include "filters/dns_test_server.hpp"
#include "filters/filter_chain.hpp"
#include "filters/public_suffix.hpp"

namespace sluice::filters {
namespace {

namespace asio = boost::asio;

TEST(DmarcReportDestination, TheQueryName) {
  EXPECT_EQ(report_authorization_name("Example.COM", "Reports.Example.NET."),
            "example.com._report._dmarc.reports.example.net");
}

TEST(DmarcReportDestination, OnlyARecordStartingWithTheVersionAuthorizes) {
  DnsAnswer a;
  a.status = DnsStatus::ok;
  a.texts.push_back({"v=spf1 -all", {"v=spf1 -all"}});
  EXPECT_FALSE(authorizes_reports(a));
  a.texts.push_back({"v=DMARC1", {"v=DMARC1"}});
  EXPECT_TRUE(authorizes_reports(a));
  a.status = DnsStatus::error;  // DNS cannot say: no reports
  EXPECT_FALSE(authorizes_reports(a));
  // The version test of discovery (RFC 7489 6.4): spaces allowed, the value exact.
  for (const auto& [text, authorizes] : std::vector<std::pair<std::string, bool>>{
           {"v=dmarc1", false}, {"v=DMARC10", false}, {"v = DMARC1", true}, {"V=DMARC1; rua=mailto:r@x.example", true}}) {
    DnsAnswer one;
    one.status = DnsStatus::ok;
    one.texts.push_back({text, {text}});
    EXPECT_EQ(authorizes_reports(one), authorizes) << text;
  }
}

TEST(DmarcReportDestination, InsideTheOrganizationOrAuthorized) {
  std::string error;
  auto psl = shared_public_suffix_list(&error);
  ASSERT_TRUE(psl) << error;
  testing::UnboundServer server({"example.com.", "example.net.", "example.org."},
                                {"example.com._report._dmarc.reports.example.net. 300 IN TXT \"v=DMARC1\"",
                                 "other.example._report._dmarc.example.org. 300 IN TXT \"v=DMARC1\""});
  const std::string not_serving = server.start();
  ASSERT_EQ(not_serving, "");
  asio::io_context ctx;
  gateway::DnsConfig dns;
  dns.servers = {"127.0.0.1"};
  dns.port = server.port();
  AresResolver resolver(ctx, dns);
  // Named: the coroutine takes references, and runs after this statement.
  const std::string policy_domain = "example.com";
  const std::vector<std::string> addresses = {"a@example.com",  "b@sub.example.com", "c@reports.example.net",
                                              "d@example.org", "e@example.net",     "broken"};
  auto done = asio::co_spawn(ctx, authorized_report_addresses(resolver, *psl, policy_domain, addresses), asio::use_future);
  ctx.run();
  EXPECT_EQ(done.get(), (std::vector<std::string>{"a@example.com", "b@sub.example.com", "c@reports.example.net"}));
}

}  // namespace
}  // namespace sluice::filters
