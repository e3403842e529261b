#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "metrics/registry.hpp"

namespace sluice::metrics {
namespace {

TEST(Exposition, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)" "\n" "d"), R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_label_value("plain ünïcode"), "plain ünïcode");
  EXPECT_EQ(escape_help("line one\nback\\slash \"quotes stay\""), "line one\\nback\\\\slash \"quotes stay\"");
}

TEST(Exposition, FormatsValues) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(1812345678), "1812345678");  // a timestamp, exact
  EXPECT_EQ(format_value(1800000000), "1.8e+09");     // shorter, and as exact
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(format_bound(0.0001), "0.0001");
  EXPECT_EQ(format_bound(1), "1");
  EXPECT_EQ(format_bound(2.5), "2.5");
}

TEST(Exposition, CounterAndGaugeWithLabels) {
  Registry r;
  auto& c = r.counter("t_events_total", "Events.\nSecond line.", {"listener", "reason"});
  c.with({"smtp", "a\"b"}).inc(3);
  auto& g = r.gauge("t_open", "Open now.");
  g.with({}).add(5);
  g.with({}).dec();
  EXPECT_EQ(render_text(r.collect()),
            "# HELP t_events_total Events.\\nSecond line.\n"
            "# TYPE t_events_total counter\n"
            "t_events_total{listener=\"smtp\",reason=\"a\\\"b\"} 3\n"
            "# HELP t_open Open now.\n"
            "# TYPE t_open gauge\n"
            "t_open 4\n");
}

TEST(Exposition, ComputedGaugesExportOnlyWhatTheSourceGivesNow) {
  Registry r;
  auto& g = r.computed_gauges("t_not_after_seconds", "Expiry.", {"listener", "file"});
  EXPECT_EQ(render_text(r.collect()), "# HELP t_not_after_seconds Expiry.\n# TYPE t_not_after_seconds gauge\n");
  ComputedGauges::Reading now = {{{"mx", "/a.pem"}, 1812345678}, {{"mx", "/b.pem"}, 1912345678}};
  g.set_source([&now] { return now; });
  EXPECT_EQ(render_text(r.collect()),
            "# HELP t_not_after_seconds Expiry.\n# TYPE t_not_after_seconds gauge\n"
            "t_not_after_seconds{listener=\"mx\",file=\"/a.pem\"} 1812345678\n"
            "t_not_after_seconds{listener=\"mx\",file=\"/b.pem\"} 1912345678\n");
  // A label set the source no longer gives is gone at the next scrape.
  now = {{{"mx", "/b.pem"}, 1912345678}};
  EXPECT_EQ(render_text(r.collect()),
            "# HELP t_not_after_seconds Expiry.\n# TYPE t_not_after_seconds gauge\n"
            "t_not_after_seconds{listener=\"mx\",file=\"/b.pem\"} 1912345678\n");
  // A reading with the wrong number of label values is dropped whole.
  now = {{{"mx", "/b.pem"}, 1}, {{"mx"}, 2}};
  EXPECT_EQ(render_text(r.collect()), "# HELP t_not_after_seconds Expiry.\n# TYPE t_not_after_seconds gauge\n");
  g.set_source({});
  EXPECT_EQ(render_text(r.collect()), "# HELP t_not_after_seconds Expiry.\n# TYPE t_not_after_seconds gauge\n");
  EXPECT_THROW(r.computed_gauges("t_not_after_seconds", "Again.", {}), std::invalid_argument);
}

TEST(Exposition, HistogramBucketsAreCumulativeWithInf) {
  Registry r;
  auto& h = r.histogram("t_latency_seconds", "Latency.", {"op"}, {0.1, 0.5, 1});
  auto& commit = h.with({"commit"});
  commit.observe(0.05);
  commit.observe(0.1);   // "le": on the bound counts in that bucket
  commit.observe(0.7);
  commit.observe(30);
  EXPECT_EQ(render_text(r.collect()),
            "# HELP t_latency_seconds Latency.\n"
            "# TYPE t_latency_seconds histogram\n"
            "t_latency_seconds_bucket{op=\"commit\",le=\"0.1\"} 2\n"
            "t_latency_seconds_bucket{op=\"commit\",le=\"0.5\"} 2\n"
            "t_latency_seconds_bucket{op=\"commit\",le=\"1\"} 3\n"
            "t_latency_seconds_bucket{op=\"commit\",le=\"+Inf\"} 4\n"
            "t_latency_seconds_sum{op=\"commit\"} 30.85\n"
            "t_latency_seconds_count{op=\"commit\"} 4\n");
}

TEST(Exposition, CollectorsRunAtEachScrape) {
  Registry r;
  auto& q = r.gauge("t_queue_messages", "Queue.", {"state"});
  int calls = 0;
  r.add_collector([&] { q.with({"active"}).set(++calls * 10); });
  EXPECT_NE(render_text(r.collect()).find("t_queue_messages{state=\"active\"} 10\n"), std::string::npos);
  EXPECT_NE(render_text(r.collect()).find("t_queue_messages{state=\"active\"} 20\n"), std::string::npos);
}

TEST(Registry, RefusesBadNamesAndDuplicates) {
  Registry r;
  r.counter("ok_total", "x");
  EXPECT_THROW(r.counter("ok_total", "again"), std::invalid_argument);
  EXPECT_THROW(r.counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("9starts_with_digit", "x"), std::invalid_argument);
  EXPECT_THROW(r.gauge("g", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("g2", "x", {"has:colon"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h2", "x", {}, {2, 1}), std::invalid_argument);
  auto& f = r.counter("two_labels_total", "x", {"a", "b"});
  EXPECT_THROW(f.with({"only one"}), std::invalid_argument);
}

TEST(Registry, HandlesAreStable) {
  Registry r;
  auto& f = r.counter("stable_total", "x", {"k"});
  Counter& first = f.with({"a"});
  for (int i = 0; i < 1000; ++i) f.with({std::to_string(i)});
  EXPECT_EQ(&first, &f.with({"a"}));
}

}  // namespace
}  // namespace sluice::metrics
