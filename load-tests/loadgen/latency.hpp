// latency.hpp — a latency distribution in fixed memory: a log-linear
// histogram of microseconds (exact below 128 µs, then 64 buckets per power of
// two, so a percentile is within ~1.6 % of the true value) plus the exact max.
// A run of any length costs the same few kilobytes per distribution.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>

namespace sluice::loadgen {

class Latency {
 public:
  void add(std::chrono::steady_clock::duration d);
  std::uint64_t count() const { return count_; }
  // p in (0, 1]; microseconds; 0 when empty.
  double percentile_us(double p) const;
  double max_us() const { return static_cast<double>(max_us_); }
  double mean_us() const { return count_ ? static_cast<double>(sum_us_) / count_ : 0; }

 private:
  static constexpr int kLinear = 128;  // exact buckets for 0..127 µs
  static constexpr int kSub = 64;      // buckets per power of two above
  static constexpr int kBuckets = kLinear + 40 * kSub;
  static int bucket_of(std::uint64_t us);
  static double middle_of(int bucket);

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0, sum_us_ = 0, max_us_ = 0;
};

}  // namespace sluice::loadgen
