#include "storage/map_headroom.hpp"

#include <string>

namespace sluice::storage {
namespace {

class HeadroomCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "map_headroom"; }
  std::string message(int) const override {
    return "queue map above its high-water mark (" + std::to_string(static_cast<int>(kMapHighWater * 100)) +
           "% of spool.map_size)";
  }
  std::error_condition default_error_condition(int) const noexcept override {
    return std::errc::no_space_on_device;
  }
};

}  // namespace

std::error_code check_map_headroom(const QueueWriter& w, std::uint64_t incoming) {
  static const HeadroomCategory category;
  const double limit = kMapHighWater * static_cast<double>(w.own_map_size());
  // The file's extent first: while it is below the mark, the free list need
  // not be read.
  if (static_cast<double>(w.map_extent() + incoming) <= limit) return {};
  if (static_cast<double>(w.data_bytes() + incoming) <= kMapPlenty * static_cast<double>(w.own_map_size()))
    return {};
  if (static_cast<double>(w.map_in_use() + incoming) <= limit) return {};
  return {1, category};
}

}  // namespace sluice::storage
