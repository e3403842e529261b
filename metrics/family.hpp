// family.hpp — a metric family: one name, one help text, one set of label
// names, and a child metric per set of label values.
//
// with() finds or creates a child under a mutex; it is for start-up and for
// rare events (a listener added by a reload). Callers keep the reference it
// returns — children live as long as the family and never move — and the hot
// path uses only that handle. snapshot() is for the scrape.
#pragma once
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metric.hpp"

namespace sluice::metrics {

using LabelValues = std::vector<std::string>;

// One sample line: name suffix ("", "_bucket", "_sum", "_count"), labels, value.
struct Sample {
  std::string suffix;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::counter;
  std::vector<Sample> samples;
};

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  virtual FamilySnapshot snapshot() const = 0;

 protected:
  void check_arity(const LabelValues& values) const;
  std::vector<std::pair<std::string, std::string>> labels_of(const LabelValues& values) const;
  FamilySnapshot empty_snapshot() const { return FamilySnapshot{name_, help_, type_, {}}; }
  std::string name_, help_;
  MetricType type_;
  std::vector<std::string> label_names_;
};

template <class M>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::vector<double> buckets = {})
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)), buckets_(std::move(buckets)) {}

  // The child for these label values (as many as label names, in order).
  M& with(const LabelValues& values) {
    check_arity(values);
    std::lock_guard lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = make_child();
    return *slot;
  }
  M& with(std::initializer_list<std::string_view> values) { return with(LabelValues(values.begin(), values.end())); }

  FamilySnapshot snapshot() const override {
    FamilySnapshot out = empty_snapshot();
    std::lock_guard lock(mu_);
    for (const auto& [values, child] : children_) add_samples(out, labels_of(values), *child);
    return out;
  }

 private:
  std::unique_ptr<M> make_child() const {
    if constexpr (std::is_same_v<M, Histogram>) return std::make_unique<M>(buckets_);
    else return std::make_unique<M>();
  }
  static void add_samples(FamilySnapshot& out, std::vector<std::pair<std::string, std::string>> labels,
                          const M& m) {
    if constexpr (std::is_same_v<M, Histogram>) add_histogram_samples(out, std::move(labels), m.snapshot());
    else out.samples.push_back(Sample{"", std::move(labels), m.value()});
  }
  static void add_histogram_samples(FamilySnapshot& out, std::vector<std::pair<std::string, std::string>> labels,
                                    const HistogramSnapshot& h);

  std::vector<double> buckets_;
  mutable std::mutex mu_;
  std::map<LabelValues, std::unique_ptr<M>> children_;
};

// Formats a bucket bound for the "le" label ("0.005", "1", "+Inf").
std::string format_bound(double v);

template <class M>
void Family<M>::add_histogram_samples(FamilySnapshot& out, std::vector<std::pair<std::string, std::string>> labels,
                                      const HistogramSnapshot& h) {
  for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
    auto with_le = labels;
    with_le.emplace_back("le", i < h.upper_bounds.size() ? format_bound(h.upper_bounds[i]) : "+Inf");
    out.samples.push_back(Sample{"_bucket", std::move(with_le), static_cast<double>(h.cumulative[i])});
  }
  out.samples.push_back(Sample{"_sum", labels, h.sum});
  out.samples.push_back(Sample{"_count", std::move(labels), static_cast<double>(h.count)});
}

}  // namespace sluice::metrics
