#include "metrics/registry.hpp"

#include <stdexcept>

namespace sluice::metrics {

namespace {
bool name_char(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (c == ':') return colon_ok;
  return !first && c >= '0' && c <= '9';
}
}  // namespace

bool valid_metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!name_char(s[i], i == 0, true)) return false;
  return true;
}

bool valid_label_name(std::string_view s) {
  if (s.empty() || s.starts_with("__")) return false;  // "__" is reserved for Prometheus itself
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!name_char(s[i], i == 0, false)) return false;
  return true;
}

void Registry::check_new(const std::string& name, const std::vector<std::string>& labels) const {
  if (!valid_metric_name(name)) throw std::invalid_argument("bad metric name: " + name);
  for (const auto& l : labels)
    if (!valid_label_name(l) || l == "le") throw std::invalid_argument(name + ": bad label name: " + l);
  for (const auto& f : families_)
    if (f->name() == name) throw std::invalid_argument("metric family defined twice: " + name);
}

template <class F>
F& Registry::add(std::unique_ptr<F> f) {
  std::lock_guard lock(families_mu_);
  check_new(f->name(), f->label_names());
  F& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  return add(std::make_unique<Family<Counter>>(std::move(name), std::move(help), MetricType::counter, std::move(labels)));
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  return add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), MetricType::gauge, std::move(labels)));
}

Family<Histogram>& Registry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                                       std::vector<double> buckets) {
  Histogram probe(buckets);  // throws on bad bounds, before anything is registered
  return add(std::make_unique<Family<Histogram>>(std::move(name), std::move(help), MetricType::histogram,
                                                 std::move(labels), std::move(buckets)));
}

ComputedGauges& Registry::computed_gauges(std::string name, std::string help, std::vector<std::string> labels) {
  return add(std::make_unique<ComputedGauges>(std::move(name), std::move(help), std::move(labels)));
}

void Registry::add_collector(std::function<void()> collector) {
  std::lock_guard lock(scrape_mu_);
  collectors_.push_back(std::move(collector));
}

std::vector<FamilySnapshot> Registry::collect() {
  std::lock_guard scrape(scrape_mu_);
  for (auto& c : collectors_) c();
  std::vector<FamilySnapshot> out;
  std::lock_guard lock(families_mu_);
  out.reserve(families_.size());
  for (const auto& f : families_) out.push_back(f->snapshot());
  return out;
}

}  // namespace sluice::metrics
