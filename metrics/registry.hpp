// registry.hpp — Sluice's own small Prometheus client: families of counters,
// gauges and histograms with labels, updated without locks, read at scrape.
//
// API (docs/metrics.md lists every family Sluice defines):
//
//   Registry reg;
//   Family<Counter>& accepted = reg.counter("sluice_x_total", "What it counts.", {"listener"});
//   Counter& smtp = accepted.with({"smtp"});  // once, at start-up: keep the handle
//   smtp.inc();                                // hot path: one relaxed add, no lookup
//   Family<Gauge>& open = reg.gauge("sluice_y", "...", {"listener"});
//   open.with({"smtp"}).add(+1) / .add(-1);
//   Family<Histogram>& h = reg.histogram("sluice_z_seconds", "...", {}, exponential_buckets(0.001, 2, 12));
//   h.with({}).observe(0.0042);
//   reg.computed_gauges("sluice_w", "...", {"file"}).set_source([] { return ComputedGauges::Reading{...}; });
//   reg.add_collector([&] { queue.with({"active"}).set(read_queue_size()); });  // runs at each scrape
//   std::string text = render_text(reg.collect());   // metrics/exposition.hpp
//
// Contract: families are made at start-up (a bad or duplicate name throws
// std::invalid_argument: a bug, caught at start). Children are found or made
// by with() under the family's mutex and never removed, so a handle stays
// valid for the registry's life. Collectors run on the scraping thread, one
// scrape at a time, before the families are read; they must not block long
// (they delay only the scrape, never SMTP).
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/computed_gauges.hpp"
#include "metrics/family.hpp"

namespace sluice::metrics {

class Registry {
 public:
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> labels,
                               std::vector<double> buckets);
  // Gauges whose label sets a function gives at each scrape (computed_gauges.hpp).
  ComputedGauges& computed_gauges(std::string name, std::string help, std::vector<std::string> labels);
  void add_collector(std::function<void()> collector);
  // Runs the collectors, then reads every family, in the order made.
  std::vector<FamilySnapshot> collect();

 private:
  void check_new(const std::string& name, const std::vector<std::string>& labels) const;
  template <class F>
  F& add(std::unique_ptr<F> f);

  mutable std::mutex families_mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::mutex scrape_mu_;  // one scrape at a time; collectors run under it
  std::vector<std::function<void()>> collectors_;
};

// Prometheus data model names: [a-zA-Z_:][a-zA-Z0-9_:]* for metrics,
// no ':' and no leading "__" for labels.
bool valid_metric_name(std::string_view s);
bool valid_label_name(std::string_view s);

}  // namespace sluice::metrics
