#include "metrics/shards.hpp"

#include <algorithm>
#include <bit>
#include <thread>

namespace sluice::metrics {

std::size_t shard_count() {
  static const std::size_t n = [] {
    const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    return std::clamp<std::size_t>(std::bit_ceil(2 * cores), 8, 128);
  }();
  return n;
}

std::size_t this_thread_shard() {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % shard_count();
  return mine;
}

ShardedLines::ShardedLines(std::size_t lines_per_shard)
    : per_shard_(lines_per_shard), lines_(new CellLine[lines_per_shard * shard_count()]) {}

std::uint64_t ShardedLines::sum(std::size_t i) const {
  std::uint64_t total = 0;
  for (std::size_t s = 0; s < shard_count(); ++s) total += at(s, i).load(std::memory_order_relaxed);
  return total;
}

}  // namespace sluice::metrics
