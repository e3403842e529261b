#include "metrics/metric.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace sluice::metrics {

double Counter::value() const {
  return base_.load(std::memory_order_relaxed) + static_cast<double>(cells_.sum(0));
}

double Gauge::value() const {
  return base_.load(std::memory_order_relaxed) + static_cast<double>(static_cast<std::int64_t>(cells_.sum(0)));
}

namespace {
std::size_t lines_for(std::size_t slots) { return (slots + kSlotsPerLine - 1) / kSlotsPerLine; }
}  // namespace

Histogram::Histogram(std::span<const double> upper_bounds)
    : bounds_(upper_bounds.begin(), upper_bounds.end()), cells_(lines_for(upper_bounds.size() + 2)) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i])) throw std::invalid_argument("histogram bucket bounds must be finite");
    if (i > 0 && bounds_[i] <= bounds_[i - 1]) throw std::invalid_argument("histogram bucket bounds must increase");
  }
}

void Histogram::observe(double v) {
  // Buckets are "less than or equal": the first bound ≥ v.
  const std::size_t b = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  cells_.local(b).fetch_add(1, std::memory_order_relaxed);
  // Only this thread writes its shard's sum (or one that shares the shard):
  // a CAS loop keeps it exact either way.
  auto& sum = cells_.local(bounds_.size() + 1);
  std::uint64_t old = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(old, std::bit_cast<std::uint64_t>(std::bit_cast<double>(old) + v),
                                    std::memory_order_relaxed)) {
  }
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot s;
  s.upper_bounds = bounds_;
  const std::size_t n = bounds_.size() + 1;
  std::vector<std::uint64_t> per_bucket(n, 0);
  for (std::size_t sh = 0; sh < shard_count(); ++sh) {
    for (std::size_t b = 0; b < n; ++b) per_bucket[b] += cells_.at(sh, b).load(std::memory_order_relaxed);
    s.sum += std::bit_cast<double>(cells_.at(sh, n).load(std::memory_order_relaxed));
  }
  std::uint64_t running = 0;
  for (std::size_t b = 0; b < n; ++b) {
    running += per_bucket[b];
    s.cumulative.push_back(running);
  }
  s.count = running;
  return s;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i, start *= factor) out.push_back(start);
  return out;
}

std::vector<double> linear_buckets(double start, double width, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i) out.push_back(start + width * i);
  return out;
}

}  // namespace sluice::metrics
