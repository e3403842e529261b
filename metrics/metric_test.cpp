#include "metrics/metric.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "metrics/sluice_metrics.hpp"

namespace sluice::metrics {
namespace {

constexpr int kThreads = 8;
constexpr int kPerThread = 100000;

template <class F>
void run_threads(F f) {
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) ts.emplace_back([&f, t] { f(t); });
  for (auto& t : ts) t.join();
}

TEST(Metric, CounterSumsConcurrentWriters) {
  Counter c;
  run_threads([&](int) {
    for (int i = 0; i < kPerThread; ++i) c.inc();
  });
  EXPECT_EQ(c.value(), double(kThreads) * kPerThread);
}

TEST(Metric, GaugeUpAndDownAcrossThreads) {
  Gauge g;
  // Half the threads go up, half go down twice as often by one: signed sums
  // must survive the shards' unsigned storage.
  run_threads([&](int t) {
    for (int i = 0; i < kPerThread; ++i) (t % 2 == 0) ? g.add(2) : g.dec();
  });
  EXPECT_EQ(g.value(), double(kThreads / 2) * kPerThread);
  Gauge negative;
  negative.add(-7);
  EXPECT_EQ(negative.value(), -7);
}

TEST(Metric, HistogramSumsConcurrentWriters) {
  const std::vector<double> bounds{1, 10};
  Histogram h(bounds);
  run_threads([&](int t) {
    for (int i = 0; i < kPerThread; ++i) h.observe(t % 2 == 0 ? 0.5 : 5);
  });
  const HistogramSnapshot s = h.snapshot();
  ASSERT_EQ(s.cumulative.size(), 3u);
  EXPECT_EQ(s.cumulative[0], std::uint64_t(kThreads / 2) * kPerThread);
  EXPECT_EQ(s.cumulative[1], std::uint64_t(kThreads) * kPerThread);
  EXPECT_EQ(s.cumulative[2], s.count);
  EXPECT_EQ(s.count, std::uint64_t(kThreads) * kPerThread);
  EXPECT_DOUBLE_EQ(s.sum, (kThreads / 2) * kPerThread * 0.5 + (kThreads / 2) * kPerThread * 5.0);
}

TEST(Metric, ScrapeWhileWritingNeverGoesBackwards) {
  Counter c;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    double last = 0;
    while (!done.load()) {
      const double v = c.value();
      ASSERT_GE(v, last);
      last = v;
    }
  });
  run_threads([&](int) {
    for (int i = 0; i < kPerThread; ++i) c.inc();
  });
  done = true;
  reader.join();
  EXPECT_EQ(c.value(), double(kThreads) * kPerThread);
}

TEST(Metric, ShardsAreCacheLinePadded) {
  EXPECT_EQ(sizeof(CellLine), kCacheLine);
  EXPECT_EQ(alignof(CellLine), kCacheLine);
  ShardedLines lines(1);
  if (shard_count() > 1) {
    EXPECT_GE(reinterpret_cast<const char*>(&lines.at(1, 0)) - reinterpret_cast<const char*>(&lines.at(0, 0)),
              static_cast<std::ptrdiff_t>(kCacheLine));
  }
}

TEST(SluiceMetrics, CommandOfReadsTheVerb) {
  EXPECT_EQ(command_of("MAIL FROM:<a@b>"), SmtpCommand::mail);
  EXPECT_EQ(command_of("rcpt to:<a@b>"), SmtpCommand::rcpt);
  EXPECT_EQ(command_of("EHLO x"), SmtpCommand::ehlo);
  EXPECT_EQ(command_of("DATA"), SmtpCommand::data);
  EXPECT_EQ(command_of("QUIT"), SmtpCommand::quit);
  EXPECT_EQ(command_of("DATAX"), SmtpCommand::other);
  EXPECT_EQ(command_of("MAI"), SmtpCommand::other);
  EXPECT_EQ(command_of(""), SmtpCommand::other);
}

}  // namespace
}  // namespace sluice::metrics
