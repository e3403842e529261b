// filter_metrics.hpp — makes the filters' and DNS's metric series at start,
// each at 0, so that rate() and increase() work from the first scrape and a
// dashboard shows a series that has not happened yet as 0, not as missing
// (docs/metrics.md). The hot path still finds them with with(); this only
// makes them exist before their first event.
#pragma once
#include "gateway/config.hpp"

namespace sluice::filters {

// For the filters `config` turns on: sluice_filter_seconds{filter},
// sluice_filter_failures_total{filter, timeout|error} and
// sluice_filter_results_total{filter, word} for every word the filter can
// give; and, when any filter runs, sluice_dns_cache_lookups_total and
// sluice_dns_queries_total{type, status} for every type and status.
void make_filter_metric_series(const gateway::FiltersConfig& config);

}  // namespace sluice::filters
