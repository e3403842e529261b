#include "load-tests/loadgen/latency.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sluice::loadgen {

int Latency::bucket_of(std::uint64_t us) {
  if (us < kLinear) return static_cast<int>(us);
  int exp = std::bit_width(us) - 1;  // >= 7
  int sub = static_cast<int>((us >> (exp - 6)) & (kSub - 1));
  return std::min(kLinear + (exp - 7) * kSub + sub, kBuckets - 1);
}

double Latency::middle_of(int bucket) {
  if (bucket < kLinear) return bucket;
  int exp = (bucket - kLinear) / kSub + 7;
  int sub = (bucket - kLinear) % kSub;
  double width = std::ldexp(1.0, exp - 6);
  return std::ldexp(1.0, exp) + sub * width + width / 2;
}

void Latency::add(std::chrono::steady_clock::duration d) {
  auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::microseconds>(d).count()));
  ++counts_[bucket_of(us)];
  ++count_;
  sum_us_ += us;
  max_us_ = std::max(max_us_, us);
}

double Latency::percentile_us(double p) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) return std::min(middle_of(b), max_us());
  }
  return max_us();
}

}  // namespace sluice::loadgen
