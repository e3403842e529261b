// shards.hpp — per-thread cells for lock-free metric updates.
//
// Every metric child keeps one cache line of relaxed atomics per shard; a
// thread always writes the shard it was given on its first update, so two
// workers never write the same line (no locks, no false sharing), and a scrape
// sums the shards. The shard count is fixed for the process (about twice the
// cores, at least 8, at most 128); with more threads than shards two threads
// share one, which stays correct (atomic adds), only a little slower.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace sluice::metrics {

inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::size_t kSlotsPerLine = kCacheLine / sizeof(std::atomic<std::uint64_t>);

// One cache line of 64-bit slots.
struct alignas(kCacheLine) CellLine {
  std::atomic<std::uint64_t> slot[kSlotsPerLine]{};
};

std::size_t shard_count();
// The calling thread's shard, in [0, shard_count()).
std::size_t this_thread_shard();

// `lines_per_shard` lines for each shard, zeroed, in one aligned allocation.
class ShardedLines {
 public:
  explicit ShardedLines(std::size_t lines_per_shard);
  // Slot `i` (0 ≤ i < lines_per_shard * kSlotsPerLine) of this thread's shard.
  std::atomic<std::uint64_t>& local(std::size_t i) { return at(this_thread_shard(), i); }
  std::atomic<std::uint64_t>& at(std::size_t shard, std::size_t i) {
    return lines_[shard * per_shard_ + i / kSlotsPerLine].slot[i % kSlotsPerLine];
  }
  const std::atomic<std::uint64_t>& at(std::size_t shard, std::size_t i) const {
    return lines_[shard * per_shard_ + i / kSlotsPerLine].slot[i % kSlotsPerLine];
  }
  // Sum of slot `i` over all shards (wrapping, so signed deltas stored as
  // two's complement sum correctly).
  std::uint64_t sum(std::size_t i) const;

 private:
  std::size_t per_shard_;
  std::unique_ptr<CellLine[]> lines_;
};

}  // namespace sluice::metrics
