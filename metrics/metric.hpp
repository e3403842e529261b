// metric.hpp — the three metric kinds: Counter, Gauge, Histogram.
//
// Hot path: inc()/add()/observe() are a few relaxed atomic adds on the
// calling thread's own cache line (metrics/shards.hpp): no lock, no
// allocation, no lookup. value()/snapshot() sum the shards at scrape time, so
// a scrape sees each cell at some recent moment, not one global instant —
// what Prometheus clients promise anyway.
// set() is for values read elsewhere at scrape time (a collector copying the
// kernel's CPU time or the spool's queue size): it stores a base the shards
// are added to, so do not mix set() with add() on the same child.
#pragma once
#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "metrics/shards.hpp"

namespace sluice::metrics {

enum class MetricType { counter, gauge, histogram };

class Counter {
 public:
  Counter() : cells_(1) {}
  void inc(std::uint64_t n = 1) { cells_.local(0).fetch_add(n, std::memory_order_relaxed); }
  void set(double total) { base_.store(total, std::memory_order_relaxed); }  // collectors only
  double value() const;

 private:
  ShardedLines cells_;
  std::atomic<double> base_{0};
};

class Gauge {
 public:
  Gauge() : cells_(1) {}
  void add(std::int64_t d) { cells_.local(0).fetch_add(static_cast<std::uint64_t>(d), std::memory_order_relaxed); }
  void inc() { add(1); }
  void dec() { add(-1); }
  void set(double v) { base_.store(v, std::memory_order_relaxed); }  // collectors only
  double value() const;

 private:
  ShardedLines cells_;
  std::atomic<double> base_{0};
};

struct HistogramSnapshot {
  std::vector<double> upper_bounds;      // without +Inf
  std::vector<std::uint64_t> cumulative; // one per bound, then +Inf (== count)
  double sum = 0;
  std::uint64_t count = 0;
};

class Histogram {
 public:
  // `upper_bounds`: strictly increasing, finite; +Inf is implied.
  explicit Histogram(std::span<const double> upper_bounds);
  void observe(double v);
  HistogramSnapshot snapshot() const;

 private:
  // Slots per shard: [0, n) bucket counts (n = bounds + the +Inf bucket),
  // then n: the sum as double bits.
  std::vector<double> bounds_;
  ShardedLines cells_;
};

// Bucket helpers, as in the Prometheus client libraries.
std::vector<double> exponential_buckets(double start, double factor, int count);
std::vector<double> linear_buckets(double start, double width, int count);

}  // namespace sluice::metrics
