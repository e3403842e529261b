// computed_gauges.hpp — a gauge family whose samples a function reads at
// each scrape, for label sets that come and go with the configuration (the
// certificates in use, per listener).
//
// Why not Family<Gauge>: its children are never removed, so a certificate
// dropped by a reload would go on being exported with its last value (and an
// expiry alert would fire for a file nobody uses). Here nothing is kept
// between scrapes: what the source returns is the whole family.
#pragma once
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "metrics/family.hpp"

namespace sluice::metrics {

class ComputedGauges final : public FamilyBase {
 public:
  using Reading = std::vector<std::pair<LabelValues, double>>;
  using Source = std::function<Reading()>;

  ComputedGauges(std::string name, std::string help, std::vector<std::string> label_names);

  // Replaces the source; an empty one exports no samples. The source runs
  // on the scraping thread and must not block long; a reading with the
  // wrong number of label values is dropped whole (a bug, not a scrape error).
  void set_source(Source source);
  FamilySnapshot snapshot() const override;

 private:
  mutable std::mutex mu_;
  Source source_;
};

}  // namespace sluice::metrics
