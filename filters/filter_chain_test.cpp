// The filter chain's own behaviour, with filters written for the test: the
// order of the hooks, the header block handed over once, deadlines and the
// two failure modes, an exception, and what the chain adds. (SPF, DKIM and
// DMARC on live sessions: tests/integration/test_filters.py.)
#include "filters/filter_chain.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "filters/resolver.hpp"

namespace sluice::filters {
namespace {

namespace asio = boost::asio;

class NoDns final : public Resolver {
 public:
  asio::awaitable<DnsAnswer> query(std::string_view, DnsType) override { co_return DnsAnswer{}; }
};

// Records every hook; its end of data waits `delay`, or throws.
class Recorder final : public Filter {
 public:
  Recorder(std::vector<std::string>& log, std::chrono::milliseconds delay = {}, bool throws = false)
      : log_(log), delay_(delay), throws_(throws) {}
  std::string_view name() const override { return "recorder"; }
  void on_connect(const ConnectFacts& f) override { log_.push_back("connect " + f.client_addr); }
  void on_helo(std::string_view h) override { log_.push_back("helo " + std::string(h)); }
  void on_mail(const MailFacts& f, const asio::any_io_executor&) override { log_.push_back("mail " + f.sender); }
  void on_rcpt(std::string_view r) override { log_.push_back("rcpt " + std::string(r)); }
  void on_header_block(std::string_view fields) override { log_.push_back("header_block " + std::string(fields)); }
  void on_data(std::string_view d) override { bytes_ += d.size(); }
  asio::awaitable<void> on_end_of_data(FilterResults&) override {
    log_.push_back("end_of_data " + std::to_string(bytes_));
    if (throws_) throw std::runtime_error("broken");
    if (delay_.count()) {
      asio::steady_timer t(co_await asio::this_coro::executor, delay_);
      co_await t.async_wait(asio::use_awaitable);
    }
    log_.push_back("finished");
  }
  void fail(FilterResults&, std::string_view why) override { log_.push_back("fail " + std::string(why)); }
  void reset() override { bytes_ = 0; }
  std::vector<std::string> result_words(const FilterResults&) const override { return {"ok"}; }

 private:
  std::vector<std::string>& log_;
  std::chrono::milliseconds delay_;
  bool throws_;
  std::size_t bytes_ = 0;
};

struct Harness {
  gateway::FiltersConfig config;
  gateway::FilterSettings settings;
  NoDns dns;
  std::vector<std::string> log;
  Harness() {
    config.spf.enabled = config.dkim.enabled = config.dmarc.enabled = false;  // only the test's filter
    config.authserv_id = "mx.test";
  }
  ChainOutcome message(FilterChain& chain, std::string_view data) {
    asio::io_context ctx;
    chain.connect({"192.0.2.1", "", "smtp"});
    chain.helo("client.test");
    MailFacts mail;
    mail.sender = "a@b.test";
    chain.start(mail, ctx.get_executor(), true);
    chain.rcpt("c@d.test");
    std::string stored;
    for (std::size_t i = 0; i < data.size(); i += 3) chain.data(data.substr(i, 3), stored);
    chain.data_end(stored);
    EXPECT_EQ(stored, data);
    ChainOutcome out;
    asio::co_spawn(ctx, chain.end_of_data(), [&](std::exception_ptr e, ChainOutcome o) {
      EXPECT_FALSE(e);
      out = std::move(o);
    });
    ctx.run();
    return out;
  }
};

TEST(FilterChain, HooksInSessionOrderAndTheHeaderBlockOnce) {
  Harness r;
  FilterChain chain(r.dns, nullptr, r.config, "mx.test");
  chain.add(std::make_unique<Recorder>(r.log), &r.settings);
  const ChainOutcome out = r.message(chain, "Subject: x\r\nFrom: a@b.test\r\n\r\nbody\r\n");
  EXPECT_EQ(r.log, (std::vector<std::string>{"connect 192.0.2.1", "helo client.test", "mail a@b.test",
                                             "rcpt c@d.test", "header_block Subject: x\r\nFrom: a@b.test\r\n",
                                             "end_of_data 36", "finished"}));
  EXPECT_FALSE(out.defer);
  EXPECT_EQ(out.added_headers, "Authentication-Results: mx.test; none\r\n");  // SPF/DKIM/DMARC off here
  EXPECT_EQ(chain.results().from.domain, "b.test");
}

TEST(FilterChain, ADeadlineMissedCarriesOnOrDefersAsConfigured) {
  for (auto mode : {gateway::FilterFailure::carry_on, gateway::FilterFailure::defer}) {
    Harness r;
    r.settings.timeout = std::chrono::seconds(1);
    r.settings.on_failure = mode;
    FilterChain chain(r.dns, nullptr, r.config, "mx.test");
    chain.add(std::make_unique<Recorder>(r.log, std::chrono::milliseconds(5000)), &r.settings);
    const auto started = std::chrono::steady_clock::now();
    const ChainOutcome out = r.message(chain, "Subject: x\r\n\r\nb\r\n");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));  // not the filter's 5 s
    EXPECT_EQ(r.log.back(), "fail timed out after 1s");
    EXPECT_EQ(chain.results().failed, std::vector<std::string>{"recorder"});
    EXPECT_EQ(out.defer, mode == gateway::FilterFailure::defer);
    if (out.defer) {
      EXPECT_EQ(out.defer_reason, "recorder timed out after 1s");
    }
  }
}

TEST(FilterChain, AThrowingFilterIsAFailureNotACrash) {
  Harness r;
  FilterChain chain(r.dns, nullptr, r.config, "mx.test");
  chain.add(std::make_unique<Recorder>(r.log, std::chrono::milliseconds(0), true), &r.settings);
  const auto started = std::chrono::steady_clock::now();
  const ChainOutcome out = r.message(chain, "Subject: x\r\n\r\nb\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));  // not the 30 s deadline
  EXPECT_EQ(r.log.back(), "fail failed: broken");
  EXPECT_FALSE(out.defer);  // on_failure defaults to continue
}

TEST(FilterChain, ClientsNotJudgedSeeNoFiltersButForgeriesStillGo) {
  Harness r;
  FilterChain chain(r.dns, nullptr, r.config, "mx.test");
  chain.add(std::make_unique<Recorder>(r.log), &r.settings);
  asio::io_context ctx;
  chain.start(MailFacts{}, ctx.get_executor(), false);
  chain.rcpt("c@d.test");
  std::string stored;
  chain.data("Authentication-Results: mx.test; spf=pass\r\nSubject: y\r\n\r\nz\r\n", stored);
  chain.data_end(stored);
  EXPECT_EQ(stored, "Subject: y\r\n\r\nz\r\n");
  EXPECT_TRUE(r.log.empty());
}

}  // namespace
}  // namespace sluice::filters
