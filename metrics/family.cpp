#include "metrics/family.hpp"

#include <charconv>
#include <cmath>

namespace sluice::metrics {

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {}

void FamilyBase::check_arity(const LabelValues& values) const {
  if (values.size() != label_names_.size())
    throw std::invalid_argument(name_ + ": " + std::to_string(label_names_.size()) + " label values expected, got " +
                                std::to_string(values.size()));
}

std::vector<std::pair<std::string, std::string>> FamilyBase::labels_of(const LabelValues& values) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < values.size(); ++i) out.emplace_back(label_names_[i], values[i]);
  return out;
}

std::string format_bound(double v) {
  char buf[32];
  // Plain decimals ("0.0001", not "1e-04"), as the usual client libraries
  // write them: PromQL matches le values as strings across targets.
  const bool plain = v == 0 || (std::abs(v) >= 1e-9 && std::abs(v) < 1e15);
  auto r = plain ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                 : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace sluice::metrics
