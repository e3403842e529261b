// process_collector.hpp — the standard process_* metrics, read from /proc at
// scrape time: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds (names as in the Prometheus client libraries,
// so existing dashboards work).
// Reading /proc/self costs a few small reads, on the metrics thread only.
// Linux only; on a read failure the value keeps its previous reading.
#pragma once
#include "metrics/registry.hpp"

namespace sluice::metrics {

void register_process_collector(Registry& registry);

}  // namespace sluice::metrics
