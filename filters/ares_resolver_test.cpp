// The c-ares resolver against a real unbound on a loopback port: every record
// type the filters need, negative answers, TCP fallback, timeouts,
// cancellation, shutdown with queries in flight, the per-worker cache, and
// many concurrent queries on two worker threads.
#include "filters/ares_resolver.hpp"
#include "metrics/sluice_metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/detached.hpp>
#include <future>
#include <optional>

#include "filters/caching_resolver.hpp"
#include "metrics/sluice_metrics.hpp"
#include "filters/dns_test_server.hpp"
#include "gateway/worker.hpp"

namespace sluice::filters {
namespace {

namespace asio = boost::asio;
using testing::SilentServer;
using testing::UnboundServer;

std::string long_txt_record() {
  // Four 200-octet strings: about 830 octets of answer, more than a UDP
  // reply without EDNS may carry (RFC 1035 4.2.1), so unbound sets TC.
  std::string r = "long.example.test. 300 IN TXT";
  for (char c : {'a', 'b', 'c', 'd'}) r += " \"" + std::string(200, c) + "\"";
  return r;
}

std::vector<std::string> zone_records() {
  return {
      "example.test. 3600 IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 7",
      "a.example.test. 300 IN A 192.0.2.1",
      "a.example.test. 300 IN A 192.0.2.2",
      "a.example.test. 300 IN AAAA 2001:db8::1",
      "spf.example.test. 300 IN TXT \"v=spf1 \" \"ip4:192.0.2.0/24\" \" -all\"",
      "spf.example.test. 300 IN TXT \"unrelated\"",
      long_txt_record(),
      "example.test. 300 IN MX 10 mx1.example.test.",
      "example.test. 300 IN MX 20 MX2.Example.Test.",
      "alias.example.test. 300 IN CNAME a.example.test.",
      "alias2.example.test. 300 IN CNAME alias.example.test.",
      "loop1.example.test. 300 IN CNAME loop2.example.test.",
      "loop2.example.test. 300 IN CNAME loop1.example.test.",
      "short.example.test. 1 IN A 192.0.2.9",
      "1.2.0.192.in-addr.arpa. 300 IN PTR a.example.test.",
  };
}

gateway::DnsConfig config_for(std::uint16_t port) {
  gateway::DnsConfig c;
  c.servers = {"127.0.0.1"};
  c.port = port;
  c.timeout = std::chrono::milliseconds(1000);
  c.tries = 2;
  return c;
}

// Runs one query to completion on `ctx` (this thread).
DnsAnswer ask(asio::io_context& ctx, Resolver& r, const std::string& name, DnsType type) {
  std::optional<DnsAnswer> out;
  auto task = [&]() -> asio::awaitable<void> {
    DnsAnswer a = co_await r.query(name, type);
    out = std::move(a);
  };
  asio::co_spawn(ctx, task(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ctx.restart();
  while (!out && ctx.run_one_for(std::chrono::seconds(20)) > 0) {
  }
  if (!out) ADD_FAILURE() << "query " << name << " never completed";
  return out.value_or(DnsAnswer{});
}

std::vector<std::string> ips(const DnsAnswer& a) {
  std::vector<std::string> out;
  for (const auto& ip : a.addresses) out.push_back(ip_text(ip));
  std::sort(out.begin(), out.end());
  return out;
}

class AresResolverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new UnboundServer({"example.test.", "2.0.192.in-addr.arpa."}, zone_records());
    start_error_ = server_->start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(start_error_, "");
    resolver_.emplace(ctx_, config_for(server_->port()));
  }
  DnsAnswer ask(const std::string& name, DnsType type) { return filters::ask(ctx_, *resolver_, name, type); }

  static UnboundServer* server_;
  static std::string start_error_;
  asio::io_context ctx_;
  std::optional<AresResolver> resolver_;
};
UnboundServer* AresResolverTest::server_ = nullptr;
std::string AresResolverTest::start_error_;

TEST_F(AresResolverTest, A) {
  const DnsAnswer a = ask("a.example.test", DnsType::A);
  ASSERT_EQ(a.status, DnsStatus::ok) << a.error;
  EXPECT_EQ(ips(a), (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_GT(a.ttl, 0u);
  EXPECT_LE(a.ttl, 300u);
  EXPECT_FALSE(a.from_cache);
  EXPECT_EQ(resolver_->in_flight(), 0u);
}

TEST_F(AresResolverTest, NamesAreCaseInsensitiveAndMayEndInADot) {
  const DnsAnswer a = ask("A.Example.TEST.", DnsType::A);
  ASSERT_EQ(a.status, DnsStatus::ok) << a.error;
  EXPECT_EQ(a.addresses.size(), 2u);
}

TEST_F(AresResolverTest, AAAA) {
  const DnsAnswer a = ask("a.example.test", DnsType::AAAA);
  ASSERT_EQ(a.status, DnsStatus::ok) << a.error;
  EXPECT_EQ(ips(a), (std::vector<std::string>{"2001:db8::1"}));
}

TEST_F(AresResolverTest, CnameIsFollowedAndOnlyTheAskedTypeReturned) {
  const DnsAnswer a = ask("alias.example.test", DnsType::A);
  ASSERT_EQ(a.status, DnsStatus::ok) << a.error;
  EXPECT_EQ(ips(a), (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(a.canonical_name, "a.example.test");
}

// An alias whose target has no record of the asked type is NODATA, as it is
// for the target itself, not an over-long chain (an SPF a: term naming a
// CNAME'd host with no AAAA, a DKIM selector CNAME'd to a removed key).
TEST_F(AresResolverTest, CnameToANameWithoutTheTypeIsNodata) {
  for (const char* name : {"alias.example.test", "alias2.example.test"}) {
    const DnsAnswer a = ask(name, DnsType::TXT);
    EXPECT_EQ(a.status, DnsStatus::nodata) << name << ": " << a.error;
    EXPECT_EQ(a.canonical_name, "a.example.test") << name;
    EXPECT_TRUE(a.texts.empty()) << name;
  }
}

TEST_F(AresResolverTest, CnameLoopIsAnErrorAfterABoundedChase) {
  const DnsAnswer a = ask("loop1.example.test", DnsType::A);
  EXPECT_EQ(a.status, DnsStatus::error);
  EXPECT_NE(a.error.find("CNAME chain"), std::string::npos) << a.error;
}

TEST_F(AresResolverTest, TxtRecordsKeepTheirStringsAndConcatenate) {
  const DnsAnswer a = ask("spf.example.test", DnsType::TXT);
  ASSERT_EQ(a.status, DnsStatus::ok) << a.error;
  ASSERT_EQ(a.texts.size(), 2u);
  auto spf = std::find_if(a.texts.begin(), a.texts.end(), [](const TxtRecord& t) { return t.strings.size() == 3; });
  ASSERT_NE(spf, a.texts.end());
  EXPECT_EQ(spf->text, "v=spf1 ip4:192.0.2.0/24 -all");  // RFC 7208 3.3: no spaces added
  EXPECT_EQ(spf->strings, (std::vector<std::string>{"v=spf1 ", "ip4:192.0.2.0/24", " -all"}));
  auto other = std::find_if(a.texts.begin(), a.texts.end(), [](const TxtRecord& t) { return t.text == "unrelated"; });
  EXPECT_NE(other, a.texts.end());
}

TEST_F(AresResolverTest, LongTxtComesOverTcpAfterATruncatedUdpReply) {
  const DnsAnswer a = ask("long.example.test", DnsType::TXT);
  ASSERT_EQ(a.status, DnsStatus::ok) << a.error;
  ASSERT_EQ(a.texts.size(), 1u);
  ASSERT_EQ(a.texts[0].strings.size(), 4u);
  EXPECT_EQ(a.texts[0].text.size(), 800u);
  EXPECT_EQ(a.texts[0].text.substr(0, 200), std::string(200, 'a'));
  EXPECT_EQ(a.texts[0].text.substr(600), std::string(200, 'd'));
}

// The same record from a server that refuses TCP: the truncated UDP reply is
// all there is, so the long answer cannot be had. This is what proves the
// test above went over TCP.
TEST(AresResolverTcp, LongTxtFailsWhenTheServerHasNoTcp) {
  UnboundServer udp_only({"example.test."}, zone_records(), {"do-tcp: no"});
  ASSERT_EQ(udp_only.start(), "");
  auto c = config_for(udp_only.port());
  c.timeout = std::chrono::milliseconds(300);
  c.tries = 1;
  asio::io_context ctx;
  AresResolver r(ctx, c);
  EXPECT_EQ(ask(ctx, r, "a.example.test", DnsType::A).status, DnsStatus::ok);  // short answers still work
  const DnsAnswer a = ask(ctx, r, "long.example.test", DnsType::TXT);
  EXPECT_NE(a.status, DnsStatus::ok);
  EXPECT_TRUE(a.texts.empty());
}

TEST_F(AresResolverTest, Mx) {
  const DnsAnswer a = ask("example.test", DnsType::MX);
  ASSERT_EQ(a.status, DnsStatus::ok) << a.error;
  ASSERT_EQ(a.mx.size(), 2u);
  auto mx = a.mx;
  std::sort(mx.begin(), mx.end(), [](const MxRecord& x, const MxRecord& y) { return x.preference < y.preference; });
  EXPECT_EQ(mx[0].preference, 10);
  EXPECT_EQ(mx[0].exchange, "mx1.example.test");
  EXPECT_EQ(mx[1].preference, 20);
  EXPECT_EQ(mx[1].exchange, "mx2.example.test");  // lower-cased
}

TEST_F(AresResolverTest, Ptr) {
  const auto ip = gateway::parse_ip("192.0.2.1");
  ASSERT_TRUE(ip);
  const DnsAnswer a = ask(reverse_name(*ip), DnsType::PTR);
  ASSERT_EQ(a.status, DnsStatus::ok) << a.error;
  EXPECT_EQ(a.names, (std::vector<std::string>{"a.example.test"}));
}

TEST_F(AresResolverTest, NxdomainCarriesTheSoaMinimumAsTtl) {
  const DnsAnswer a = ask("nope.example.test", DnsType::A);
  EXPECT_EQ(a.status, DnsStatus::nxdomain);
  EXPECT_EQ(a.ttl, 7u);  // RFC 2308 5: min(SOA TTL 3600, MINIMUM 7)
  EXPECT_TRUE(a.addresses.empty());
}

TEST_F(AresResolverTest, NodataWhenTheNameHasOtherTypesOnly) {
  const DnsAnswer a = ask("a.example.test", DnsType::MX);
  EXPECT_EQ(a.status, DnsStatus::nodata);
  EXPECT_EQ(a.ttl, 7u);
  const DnsAnswer t = ask("a.example.test", DnsType::TXT);
  EXPECT_EQ(t.status, DnsStatus::nodata);
}

TEST_F(AresResolverTest, NegativeTtlIsCappedByConfig) {
  auto c = config_for(server_->port());
  c.negative_ttl = std::chrono::seconds(3);
  resolver_.emplace(ctx_, c);
  EXPECT_EQ(ask("nope.example.test", DnsType::A).ttl, 3u);
}

TEST_F(AresResolverTest, BadNameIsAnErrorNotAQuery) {
  const DnsAnswer a = ask("", DnsType::A);
  EXPECT_EQ(a.status, DnsStatus::error);
  EXPECT_EQ(resolver_->in_flight(), 0u);
  const DnsAnswer b = ask(std::string("a\0b.example.test", 16), DnsType::A);
  EXPECT_EQ(b.status, DnsStatus::error);
}

TEST_F(AresResolverTest, ServersAreTheConfiguredOnes) {
  EXPECT_EQ(resolver_->servers(), "127.0.0.1:" + std::to_string(server_->port()));
}

// No answer at all: a bound UDP socket that never replies.
TEST(AresResolverTimeout, SilentServerGivesTimeoutWithinTheConfiguredTime) {
  SilentServer silent;
  auto c = config_for(silent.port());
  c.timeout = std::chrono::milliseconds(200);
  c.tries = 2;
  asio::io_context ctx;
  AresResolver r(ctx, c);
  const auto t0 = std::chrono::steady_clock::now();
  const DnsAnswer a = ask(ctx, r, "a.example.test", DnsType::A);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(a.status, DnsStatus::timeout) << a.error;
  // Two tries: 200 ms then 400 ms (c-ares doubles per round).
  EXPECT_GE(took, std::chrono::milliseconds(550));
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  EXPECT_EQ(r.in_flight(), 0u);
}

TEST(AresResolverTimeout, CancelledQueryResumesAtOnceAndTheLateAnswerIsDropped) {
  using namespace asio::experimental::awaitable_operators;
  SilentServer silent;
  auto c = config_for(silent.port());
  c.timeout = std::chrono::milliseconds(300);
  c.tries = 1;
  asio::io_context ctx;
  AresResolver r(ctx, c);
  std::optional<std::size_t> winner;
  std::optional<DnsAnswer> answer;
  auto task = [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(ctx, std::chrono::milliseconds(50));
    auto wait = timer.async_wait(asio::use_awaitable);
    auto q = r.query("a.example.test", DnsType::A);
    auto result = co_await (std::move(q) || std::move(wait));
    winner = result.index();
    if (result.index() == 0) answer = std::get<0>(result);
  };
  const auto t0 = std::chrono::steady_clock::now();
  asio::co_spawn(ctx, task(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  while (!winner && ctx.run_one_for(std::chrono::seconds(5)) > 0) {
  }
  ASSERT_TRUE(winner);
  EXPECT_EQ(*winner, 1u);  // the timer
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
  // c-ares still has the query; its timeout completes it into the void.
  EXPECT_EQ(r.in_flight(), 1u);
  while (r.in_flight() > 0 && ctx.run_one_for(std::chrono::seconds(5)) > 0) {
  }
  EXPECT_EQ(r.in_flight(), 0u);
}

TEST(AresResolverTimeout, DestroyingTheResolverCompletesQueriesInFlight) {
  SilentServer silent;
  auto c = config_for(silent.port());
  c.timeout = std::chrono::milliseconds(5000);
  asio::io_context ctx;
  auto r = std::make_unique<AresResolver>(ctx, c);
  std::optional<DnsAnswer> out;
  auto task = [&]() -> asio::awaitable<void> {
    DnsAnswer a = co_await r->query("a.example.test", DnsType::A);
    out = std::move(a);
  };
  asio::co_spawn(ctx, task(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  // Let the query go out, then shut the resolver down under it.
  for (int i = 0; i < 20 && r->in_flight() == 0; ++i) ctx.run_one_for(std::chrono::milliseconds(10));
  ctx.poll();
  ASSERT_EQ(r->in_flight(), 1u);
  r.reset();
  while (!out && ctx.run_one_for(std::chrono::seconds(2)) > 0) {
  }
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, DnsStatus::error);
  EXPECT_EQ(out->error, "resolver shut down");
}

// The cache: its own server, which the tests stop to prove where answers came from.
class DnsCacheServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.emplace(std::vector<std::string>{"example.test."}, zone_records());
    ASSERT_EQ(server_->start(), "");
    ares_.emplace(ctx_, config_for(server_->port()));
    cached_.emplace(*ares_, 100);
  }
  DnsAnswer ask(const std::string& name, DnsType type) { return filters::ask(ctx_, *cached_, name, type); }

  asio::io_context ctx_;
  std::optional<UnboundServer> server_;
  std::optional<AresResolver> ares_;
  std::optional<CachingResolver> cached_;
};

TEST_F(DnsCacheServerTest, SecondQueryIsAnsweredWithoutTheServer) {
  const DnsAnswer first = ask("a.example.test", DnsType::A);
  ASSERT_EQ(first.status, DnsStatus::ok) << first.error;
  EXPECT_FALSE(first.from_cache);
  server_->stop();
  const DnsAnswer second = ask("a.example.test", DnsType::A);
  ASSERT_EQ(second.status, DnsStatus::ok) << second.error;
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(ips(second), ips(first));
  EXPECT_LE(second.ttl, first.ttl);
  EXPECT_EQ(cached_->cache().stats().hits.load(), 1u);
  EXPECT_EQ(cached_->cache().stats().misses.load(), 1u);
  // A name never asked is not in the cache: with the server gone it fails.
  const DnsAnswer other = ask("spf.example.test", DnsType::TXT);
  EXPECT_NE(other.status, DnsStatus::ok);
}

// The metrics families (docs/metrics.md): misses go upstream and are timed
// and counted by type and status; hits are counted apart. The registry is
// process-wide, so the test compares before and after.
TEST_F(DnsCacheServerTest, QueriesAndCacheLookupsAreCounted) {
  auto& m = metrics::sluice_metrics();
  auto& hits = m.dns_cache_lookups.with({"hit"});
  auto& misses = m.dns_cache_lookups.with({"miss"});
  auto& a_ok = m.dns_queries.with({"A", "ok"});
  auto& txt_nx = m.dns_queries.with({"TXT", "nxdomain"});
  const double h0 = hits.value(), m0 = misses.value(), ok0 = a_ok.value(), nx0 = txt_nx.value();
  const auto t0 = m.dns_query_seconds.snapshot().count;
  ASSERT_EQ(ask("a.example.test", DnsType::A).status, DnsStatus::ok);
  ASSERT_EQ(ask("a.example.test", DnsType::A).status, DnsStatus::ok);
  ASSERT_EQ(ask("nope.example.test", DnsType::TXT).status, DnsStatus::nxdomain);
  EXPECT_EQ(hits.value() - h0, 1);
  EXPECT_EQ(misses.value() - m0, 2);
  EXPECT_EQ(a_ok.value() - ok0, 1);
  EXPECT_EQ(txt_nx.value() - nx0, 1);
  EXPECT_EQ(m.dns_query_seconds.snapshot().count - t0, 2u);
}

TEST_F(DnsCacheServerTest, AnswerExpiresWithItsTtl) {
  const DnsAnswer first = ask("short.example.test", DnsType::A);  // TTL 1
  ASSERT_EQ(first.status, DnsStatus::ok) << first.error;
  EXPECT_EQ(first.ttl, 1u);
  EXPECT_TRUE(ask("short.example.test", DnsType::A).from_cache);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const DnsAnswer later = ask("short.example.test", DnsType::A);
  ASSERT_EQ(later.status, DnsStatus::ok) << later.error;
  EXPECT_FALSE(later.from_cache);
  EXPECT_EQ(cached_->cache().stats().misses.load(), 2u);
}

TEST_F(DnsCacheServerTest, NegativeAnswersAreCachedForTheSoaMinimum) {
  EXPECT_EQ(ask("nope.example.test", DnsType::A).status, DnsStatus::nxdomain);
  EXPECT_EQ(ask("a.example.test", DnsType::MX).status, DnsStatus::nodata);
  server_->stop();
  const DnsAnswer nx = ask("nope.example.test", DnsType::A);
  EXPECT_EQ(nx.status, DnsStatus::nxdomain);
  EXPECT_TRUE(nx.from_cache);
  EXPECT_LE(nx.ttl, 7u);
  const DnsAnswer nodata = ask("a.example.test", DnsType::MX);
  EXPECT_EQ(nodata.status, DnsStatus::nodata);
  EXPECT_TRUE(nodata.from_cache);
}

TEST_F(DnsCacheServerTest, FailuresAreNotCached) {
  server_->stop();
  auto c = config_for(server_->port());
  c.timeout = std::chrono::milliseconds(100);
  c.tries = 1;
  ares_.emplace(ctx_, c);
  cached_.emplace(*ares_, 100);
  EXPECT_NE(ask("a.example.test", DnsType::A).status, DnsStatus::ok);
  EXPECT_EQ(cached_->cache().size(), 0u);
}

struct WorkerTally {
  explicit WorkerTally(int n) : total(n) {}
  int total;
  std::atomic<int> done{0}, right{0};
  std::promise<void> all_done;
};

// A free function, not a capturing lambda: a lambda coroutine's captures die
// with the lambda object, long before the coroutine ends.
asio::awaitable<void> worker_query(gateway::Worker* w, int i, WorkerTally* tally) {
  // Mostly distinct names, so most go to the server: nxdomain names.
  const bool known = i % 3 == 0;
  const std::string name = known ? "a.example.test" : "n" + std::to_string(i) + ".example.test";
  DnsAnswer a = co_await w->resolver().query(name, DnsType::A);
  const bool ok = known ? (a.status == DnsStatus::ok && a.addresses.size() == 2) : a.status == DnsStatus::nxdomain;
  if (ok) tally->right.fetch_add(1);
  if (tally->done.fetch_add(1) + 1 == tally->total) tally->all_done.set_value();
}

// Two real worker threads, each with its own channel and cache, many
// coroutines each: every answer right, every query finished.
TEST(AresResolverWorkers, ManyConcurrentQueriesOnTwoWorkers) {
  UnboundServer server({"example.test.", "2.0.192.in-addr.arpa."}, zone_records());
  ASSERT_EQ(server.start(), "");
  const auto c = config_for(server.port());
  constexpr int kPerWorker = 300;
  std::vector<std::unique_ptr<gateway::Worker>> workers;
  for (unsigned i = 0; i < 2; ++i) workers.push_back(std::make_unique<gateway::Worker>(i, c));
  for (auto& w : workers) w->start();
  WorkerTally tally(2 * kPerWorker);
  for (auto& w : workers)
    for (int i = 0; i < kPerWorker; ++i)
      asio::co_spawn(w->context(), worker_query(w.get(), i, &tally), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  auto fut = tally.all_done.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(30)), std::future_status::ready) << tally.done.load() << " done";
  EXPECT_EQ(tally.right.load(), 2 * kPerWorker);
  for (auto& w : workers) w->stop_and_join();
  for (auto& w : workers) {
    // Each worker cached what it was told (the nxdomain names at least).
    EXPECT_GE(w->dns_cache().size(), static_cast<std::size_t>(kPerWorker / 2));
    EXPECT_EQ(w->dns_cache().stats().hits.load() + w->dns_cache().stats().misses.load(),
              static_cast<std::uint64_t>(kPerWorker));
  }
}

TEST(ReverseName, Ipv4AndIpv6) {
  EXPECT_EQ(reverse_name(*gateway::parse_ip("192.0.2.1")), "1.2.0.192.in-addr.arpa");
  EXPECT_EQ(reverse_name(*gateway::parse_ip("2001:db8::567:89ab")),
            "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");  // RFC 3596 2.5 style
  EXPECT_EQ(ip_text(*gateway::parse_ip("2001:db8::1")), "2001:db8::1");
  EXPECT_EQ(ip_text(*gateway::parse_ip("192.0.2.1")), "192.0.2.1");
}

// Coalescing (filters/caching_resolver.hpp): the same question from two
// sessions at once goes upstream once; both get the answer.
namespace {
asio::awaitable<void> ask_into(CachingResolver& r, const char* name, DnsType type, DnsAnswer& out) {
  out = co_await r.query(name, type);
}
}  // namespace

TEST_F(DnsCacheServerTest, IdenticalQuestionsInFlightAreAskedOnce) {
  auto& coalesced = metrics::sluice_metrics().dns_cache_lookups.with({"coalesced"});
  auto& upstream = metrics::sluice_metrics().dns_cache_lookups.with({"miss"});
  const double c0 = coalesced.value(), u0 = upstream.value();
  DnsAnswer first, second, third;
  asio::co_spawn(ctx_, ask_into(*cached_, "a.example.test", DnsType::A, first), asio::detached);
  asio::co_spawn(ctx_, ask_into(*cached_, "A.Example.Test.", DnsType::A, second), asio::detached);
  asio::co_spawn(ctx_, ask_into(*cached_, "a.example.test", DnsType::TXT, third), asio::detached);
  ctx_.run();
  ctx_.restart();
  ASSERT_EQ(first.status, DnsStatus::ok) << first.error;
  ASSERT_EQ(second.status, DnsStatus::ok) << second.error;
  EXPECT_EQ(ips(second), ips(first));
  EXPECT_EQ(upstream.value() - u0, 2);  // A once, TXT once
  EXPECT_EQ(coalesced.value() - c0, 1);
  EXPECT_EQ(cached_->in_flight(), 0u);
}

namespace {
// An upstream that answers after a delay and counts what it was asked: the
// coalescing logic's own test, where the timing must be controlled.
class SlowUpstream final : public Resolver {
 public:
  explicit SlowUpstream(std::chrono::milliseconds delay) : delay_(delay) {}
  asio::awaitable<DnsAnswer> query(std::string_view, DnsType) override {
    ++asked;
    asio::steady_timer t(co_await asio::this_coro::executor, delay_);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    DnsAnswer a;
    if (ec) {
      a.error = "cancelled";
      co_return a;
    }
    a.status = DnsStatus::nodata;
    a.ttl = 60;
    co_return a;
  }
  int asked = 0;

 private:
  std::chrono::milliseconds delay_;
};

asio::awaitable<void> ask_with_deadline(CachingResolver& r, std::chrono::milliseconds deadline, DnsAnswer& out) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer t(co_await asio::this_coro::executor, deadline);
  auto q = r.query("slow.example.test", DnsType::TXT);
  auto wait = t.async_wait(asio::use_awaitable);
  auto raced = co_await (std::move(q) || std::move(wait));
  if (raced.index() == 0) out = std::get<0>(raced);
  else out.error = "deadline";
}
}  // namespace

TEST(CachingResolverCoalescing, ALeaderCancelledByItsDeadlineHandsTheQuestionOn) {
  asio::io_context ctx;
  SlowUpstream upstream(std::chrono::milliseconds(50));
  CachingResolver cached(upstream, 100);
  DnsAnswer impatient, patient;
  asio::co_spawn(ctx, ask_with_deadline(cached, std::chrono::milliseconds(10), impatient), asio::detached);
  asio::co_spawn(ctx, ask_with_deadline(cached, std::chrono::milliseconds(1000), patient), asio::detached);
  ctx.run();
  EXPECT_EQ(impatient.error, "deadline");
  EXPECT_EQ(patient.status, DnsStatus::nodata) << patient.error;
  EXPECT_EQ(upstream.asked, 2);  // the first was cancelled; the waiter asked again
  EXPECT_EQ(cached.in_flight(), 0u);
  // ... and its answer was cached, the cancelled one's was not.
  DnsAnswer again;
  asio::co_spawn(ctx, ask_with_deadline(cached, std::chrono::milliseconds(1000), again), asio::detached);
  ctx.restart();
  ctx.run();
  EXPECT_TRUE(again.from_cache);
  EXPECT_EQ(upstream.asked, 2);
}

TEST(CachingResolverCoalescing, AWaiterCancelledByItsDeadlineLeavesTheLeaderAlone) {
  asio::io_context ctx;
  SlowUpstream upstream(std::chrono::milliseconds(50));
  CachingResolver cached(upstream, 100);
  DnsAnswer leader, impatient;
  asio::co_spawn(ctx, ask_with_deadline(cached, std::chrono::milliseconds(1000), leader), asio::detached);
  asio::co_spawn(ctx, ask_with_deadline(cached, std::chrono::milliseconds(10), impatient), asio::detached);
  ctx.run();
  EXPECT_EQ(impatient.error, "deadline");
  EXPECT_EQ(leader.status, DnsStatus::nodata) << leader.error;
  EXPECT_EQ(upstream.asked, 1);
}

}  // namespace
}  // namespace sluice::filters
