// make_filter_metric_series: the series exist at start, at 0, for the
// filters that are on, with every result word the docs list.
#include "filters/filter_metrics.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "filters/dkim_filter.hpp"
#include "filters/dmarc_filter.hpp"
#include "filters/spf_filter.hpp"
#include "metrics/exposition.hpp"
#include "metrics/sluice_metrics.hpp"

namespace sluice::filters {
namespace {

std::set<std::string> result_words_exported(const std::string& filter) {
  std::set<std::string> words;
  for (const auto& family : metrics::sluice_metrics().registry.collect()) {
    if (family.name != "sluice_filter_results_total") continue;
    for (const auto& s : family.samples) {
      std::string f, r;
      for (const auto& [k, v] : s.labels) (k == "filter" ? f : r) = v;
      if (f == filter) words.insert(r);
    }
  }
  return words;
}

// The text docs/metrics.md gives a filter in the sluice_filter_results_total
// row: "`spf` (pass fail ...)".
std::string documented_words(const std::string& filter) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/docs/metrics.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::size_t row = doc.find("| `sluice_filter_results_total` |");
  if (row == std::string::npos) return {};
  const std::string line = doc.substr(row, doc.find('\n', row) - row);
  const std::size_t at = line.find("`" + filter + "` (");
  if (at == std::string::npos) return {};
  const std::size_t open = line.find('(', at);
  return line.substr(open, line.find(')', open) - open);
}

TEST(FilterMetrics, EveryWordAFilterCanGiveIsDocumented) {
  for (const auto& [filter, words] : {std::pair{std::string("spf"), SpfFilter::result_vocabulary()},
                                      std::pair{std::string("dkim"), DkimFilter::result_vocabulary()},
                                      std::pair{std::string("dmarc"), DmarcFilter::result_vocabulary()}}) {
    const std::string doc = documented_words(filter);
    ASSERT_FALSE(doc.empty()) << filter << " has no word list in docs/metrics.md";
    for (const auto& w : words)
      EXPECT_TRUE(std::regex_search(doc, std::regex("\\b" + w + "\\b"))) << filter << ": " << w << " not in " << doc;
  }
}

TEST(FilterMetrics, EveryResultWordHasASeriesFromTheStart) {
  gateway::FiltersConfig config;
  config.enabled = true;
  config.spf.enabled = config.dkim.enabled = config.dmarc.enabled = true;
  make_filter_metric_series(config);
  // The words docs/metrics.md lists for sluice_filter_results_total.
  EXPECT_EQ(result_words_exported("spf"),
            (std::set<std::string>{"pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"}));
  EXPECT_EQ(result_words_exported("dkim"),
            (std::set<std::string>{"pass", "fail", "policy", "neutral", "permerror", "temperror", "none"}));
  EXPECT_EQ(result_words_exported("dmarc"), (std::set<std::string>{"accept", "reject", "quarantine", "none",
                                                                    "norecord", "nofrom", "temperror"}));
  const std::string text = metrics::render_text(metrics::sluice_metrics().registry.collect());
  EXPECT_NE(text.find("sluice_filter_failures_total{filter=\"dkim\",reason=\"timeout\"}"), std::string::npos);
  EXPECT_NE(text.find("sluice_filter_seconds_count{filter=\"dmarc\"}"), std::string::npos);
  EXPECT_NE(text.find("sluice_dns_queries_total{type=\"TXT\",status=\"servfail\"}"), std::string::npos);
  EXPECT_NE(text.find("sluice_dns_cache_lookups_total{result=\"coalesced\"}"), std::string::npos);
}

}  // namespace
}  // namespace sluice::filters
