#include "filters/filter_metrics.hpp"

#include <string>
#include <vector>

#include "filters/dkim_filter.hpp"
#include "filters/dmarc_filter.hpp"
#include "filters/dns_answer.hpp"
#include "filters/spf_filter.hpp"
#include "metrics/sluice_metrics.hpp"

namespace sluice::filters {

namespace {

void make_series(const std::string& filter, const std::vector<std::string>& vocabulary) {
  auto& m = metrics::sluice_metrics();
  m.filter_seconds.with({filter});
  m.filter_failures.with({filter, "timeout"});
  m.filter_failures.with({filter, "error"});
  for (const auto& word : vocabulary) m.filter_results.with({filter, word});
}

}  // namespace

void make_filter_metric_series(const gateway::FiltersConfig& config) {
  if (!config.enabled) return;
  if (config.spf.enabled) make_series("spf", SpfFilter::result_vocabulary());
  if (config.dkim.enabled) make_series("dkim", DkimFilter::result_vocabulary());
  if (config.dmarc.enabled) make_series("dmarc", DmarcFilter::result_vocabulary());
  if (!config.spf.enabled && !config.dkim.enabled && !config.dmarc.enabled) return;  // nothing asks DNS
  auto& m = metrics::sluice_metrics();
  for (const char* result : {"hit", "miss", "coalesced"}) m.dns_cache_lookups.with({result});
  for (DnsType type : {DnsType::A, DnsType::AAAA, DnsType::MX, DnsType::TXT, DnsType::PTR})
    for (DnsStatus status : {DnsStatus::ok, DnsStatus::nxdomain, DnsStatus::nodata, DnsStatus::servfail,
                             DnsStatus::timeout, DnsStatus::error})
      m.dns_queries.with({std::string(to_string(type)), std::string(to_string(status))});
}

}  // namespace sluice::filters
