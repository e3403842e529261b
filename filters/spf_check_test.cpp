// check_host() against a real unbound: identities, what a result reports
// (mechanism, counters, explanation), the DNS-term limit, a silent server,
// and the header texts made from real results. The full RFC behaviour is
// pinned by spf_conformance_test.cpp.
#include "filters/spf_check.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "filters/ares_resolver.hpp"
#include "filters/caching_resolver.hpp"
#include "filters/dns_test_server.hpp"
#include "filters/spf_header.hpp"

namespace sluice::filters {
namespace {

namespace asio = boost::asio;
using testing::SilentServer;
using testing::UnboundServer;

std::vector<std::string> zone() {
  std::vector<std::string> z = {
      "example.test. 3600 IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60",
      "example.test. 300 IN TXT \"v=spf1 a:mail.example.test include:inc.example.test -all\"",
      "mail.example.test. 300 IN A 192.0.2.10",
      "inc.example.test. 300 IN TXT \"v=spf1 ip4:198.51.100.0/24 -all\"",
      "helo.example.test. 300 IN TXT \"v=spf1 a -all\"",
      "helo.example.test. 300 IN A 192.0.2.20",
      "strict.example.test. 300 IN TXT \"v=spf1 mx -all exp=why.example.test\"",
      "strict.example.test. 300 IN MX 10 mail.example.test.",
      "why.example.test. 300 IN TXT \"%{i} may not send for %{d} (sender %{s})\"",
      // 11 DNS-querying terms through a chain of includes.
      "chain0.example.test. 300 IN TXT \"v=spf1 include:chain1.example.test -all\"",
  };
  for (int i = 1; i <= 11; ++i)
    z.push_back("chain" + std::to_string(i) + ".example.test. 300 IN TXT \"v=spf1 include:chain" +
                std::to_string(i + 1) + ".example.test -all\"");
  return z;
}

gateway::IpBytes ip(const char* text) { return *gateway::parse_ip(text); }

SpfResult run(asio::io_context& ctx, Resolver& r, const SpfRequest& request) {
  std::optional<SpfResult> out;
  auto task = [&]() -> asio::awaitable<void> {
    SpfResult result = co_await check_host(r, request);
    out = std::move(result);
  };
  asio::co_spawn(ctx, task(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ctx.restart();
  while (!out && ctx.run_one_for(std::chrono::seconds(20)) > 0) {
  }
  if (!out) ADD_FAILURE() << "check_host never completed";
  return out.value_or(SpfResult{});
}

class SpfCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new UnboundServer({"example.test."}, zone());
    start_error_ = server_->start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(start_error_, "");
    gateway::DnsConfig c;
    c.servers = {"127.0.0.1"};
    c.port = server_->port();
    resolver_.emplace(ctx_, c);
  }
  SpfResult check(const SpfRequest& r) { return run(ctx_, *resolver_, r); }

  static UnboundServer* server_;
  static std::string start_error_;
  asio::io_context ctx_;
  std::optional<AresResolver> resolver_;
};
UnboundServer* SpfCheck::server_ = nullptr;
std::string SpfCheck::start_error_;

TEST_F(SpfCheck, PassThroughAnIncludeReportsTheMechanismAndCounters) {
  const SpfResult r = check(make_mail_from_request(ip("198.51.100.7"), "alice@example.test", "c.example.org", "mx.local"));
  EXPECT_EQ(r.verdict, SpfVerdict::pass) << r.problem;
  EXPECT_EQ(r.mechanism, "include:inc.example.test");
  EXPECT_EQ(r.dns_terms, 2);
  EXPECT_EQ(r.void_lookups, 0);
  EXPECT_EQ(r.identity, SpfIdentity::mailfrom);
  EXPECT_EQ(r.domain, "example.test");
  EXPECT_EQ(authentication_results_spf(r), "spf=pass smtp.mailfrom=alice@example.test");
}

TEST_F(SpfCheck, AMechanismPassAndAFailWithTheDefaultExplanation) {
  EXPECT_EQ(check(make_mail_from_request(ip("192.0.2.10"), "a@example.test", "h", "")).verdict, SpfVerdict::pass);
  const SpfResult r = check(make_mail_from_request(ip("203.0.113.5"), "a@example.test", "h", ""));
  EXPECT_EQ(r.verdict, SpfVerdict::fail);
  EXPECT_EQ(r.mechanism, "-all");
  EXPECT_EQ(r.explanation, "example.test does not designate 203.0.113.5 as a permitted sender");
}

TEST_F(SpfCheck, NullSenderChecksTheHeloIdentityAsPostmaster) {
  const SpfResult r = check(make_mail_from_request(ip("192.0.2.20"), "", "helo.example.test", "mx.local"));
  EXPECT_EQ(r.verdict, SpfVerdict::pass) << r.problem;
  EXPECT_EQ(r.identity, SpfIdentity::helo);
  EXPECT_EQ(r.sender, "postmaster@helo.example.test");
  EXPECT_EQ(authentication_results_spf(r), "spf=pass smtp.helo=helo.example.test");
  const SpfResult not_fqdn = check(make_helo_request(ip("192.0.2.20"), "localhost", "mx.local"));
  EXPECT_EQ(not_fqdn.verdict, SpfVerdict::none);
}

TEST_F(SpfCheck, FailCarriesTheExpTextAndTheReceivedSpfHeaderSaysSo) {
  const SpfRequest q = make_mail_from_request(ip("192.0.2.99"), "bob@strict.example.test", "c.example.org", "mx.local");
  const SpfResult r = check(q);
  ASSERT_EQ(r.verdict, SpfVerdict::fail) << r.problem;
  EXPECT_EQ(r.explanation, "192.0.2.99 may not send for strict.example.test (sender bob@strict.example.test)");
  EXPECT_EQ(received_spf_header(r, q),
            "Received-SPF: fail (mx.local: domain of bob@strict.example.test does not designate 192.0.2.99 as "
            "permitted sender) client-ip=192.0.2.99; envelope-from=\"bob@strict.example.test\"; "
            "helo=c.example.org; receiver=mx.local; identity=mailfrom; mechanism=-all");
}

TEST_F(SpfCheck, MoreThanTenDnsTermsIsAPermerror) {
  const SpfResult r = check(make_mail_from_request(ip("192.0.2.1"), "x@chain0.example.test", "h", ""));
  EXPECT_EQ(r.verdict, SpfVerdict::permerror);
  EXPECT_EQ(r.dns_terms, kSpfMaxDnsTerms + 1);
  EXPECT_NE(r.problem.find("more than 10 DNS-querying terms"), std::string::npos) << r.problem;
  EXPECT_NE(authentication_results_spf(r).find("spf=permerror (more than 10"), std::string::npos);
}

TEST_F(SpfCheck, NoRecordIsNoneAndASecondCheckComesFromTheCache) {
  CachingResolver cached(*resolver_, 100);
  const SpfRequest q = make_mail_from_request(ip("192.0.2.10"), "a@example.test", "h", "");
  EXPECT_EQ(run(ctx_, cached, q).verdict, SpfVerdict::pass);
  const auto misses = cached.cache().stats().misses.load();
  EXPECT_EQ(run(ctx_, cached, q).verdict, SpfVerdict::pass);
  EXPECT_EQ(cached.cache().stats().misses.load(), misses);
  EXPECT_EQ(check(make_mail_from_request(ip("192.0.2.10"), "a@nothing.example.test", "h", "")).verdict,
            SpfVerdict::none);
}

TEST(SpfCheckTimeout, SilentServerIsATemperror) {
  SilentServer silent;
  asio::io_context ctx;
  gateway::DnsConfig c;
  c.servers = {"127.0.0.1"};
  c.port = silent.port();
  c.timeout = std::chrono::milliseconds(200);
  c.tries = 1;
  AresResolver resolver(ctx, c);
  const SpfResult r = run(ctx, resolver, make_mail_from_request(ip("192.0.2.1"), "a@example.test", "h", ""));
  EXPECT_EQ(r.verdict, SpfVerdict::temperror);
  EXPECT_NE(r.problem.find("timeout"), std::string::npos) << r.problem;
}

// The filter chain bounds a check by racing it against its own timer: the
// check must give up at once, not when c-ares would time out.
TEST(SpfCheckTimeout, CancelledByTheCallersDeadlineAtOnce) {
  using namespace asio::experimental::awaitable_operators;
  SilentServer silent;
  asio::io_context ctx;
  gateway::DnsConfig c;
  c.servers = {"127.0.0.1"};
  c.port = silent.port();
  c.timeout = std::chrono::milliseconds(3000);
  c.tries = 1;
  AresResolver resolver(ctx, c);
  const SpfRequest request = make_mail_from_request(ip("192.0.2.1"), "a@example.test", "h", "");
  std::optional<bool> check_won;
  auto race = [&]() -> asio::awaitable<void> {
    asio::steady_timer deadline(ctx, std::chrono::milliseconds(100));
    auto wait = deadline.async_wait(asio::use_awaitable);
    auto spf = check_host(resolver, request);
    auto winner = co_await (std::move(spf) || std::move(wait));
    check_won = winner.index() == 0;
  };
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(ctx, race(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  while (!check_won && ctx.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  ASSERT_TRUE(check_won.has_value());
  EXPECT_FALSE(*check_won);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  // The late c-ares timeout completes into nobody, cleanly.
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(3500));
  EXPECT_EQ(resolver.in_flight(), 0u);
}

}  // namespace
}  // namespace sluice::filters
