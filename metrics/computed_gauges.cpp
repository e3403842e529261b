#include "metrics/computed_gauges.hpp"

namespace sluice::metrics {

ComputedGauges::ComputedGauges(std::string name, std::string help, std::vector<std::string> label_names)
    : FamilyBase(std::move(name), std::move(help), MetricType::gauge, std::move(label_names)) {}

void ComputedGauges::set_source(Source source) {
  std::lock_guard lock(mu_);
  source_ = std::move(source);
}

FamilySnapshot ComputedGauges::snapshot() const {
  FamilySnapshot out = empty_snapshot();
  std::lock_guard lock(mu_);
  if (!source_) return out;
  Reading reading = source_();
  for (const auto& [values, value] : reading)
    if (values.size() != label_names_.size()) return empty_snapshot();
  for (auto& [values, value] : reading) out.samples.push_back(Sample{"", labels_of(values), value});
  return out;
}

}  // namespace sluice::metrics
