#include "storage/lmdb_error.hpp"

#include <lmdb.h>

#include <string>

namespace sluice::storage {
namespace {

class LmdbCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "lmdb"; }
  std::string message(int rc) const override { return ::mdb_strerror(rc); }
  std::error_condition default_error_condition(int rc) const noexcept override {
    if (rc == MDB_MAP_FULL) return std::errc::no_space_on_device;
    return {rc, *this};
  }
};

}  // namespace

const std::error_category& lmdb_category() {
  static const LmdbCategory category;
  return category;
}

std::error_code lmdb_error(int rc) {
  if (rc == 0) return {};
  if (rc > 0) return {rc, std::generic_category()};  // an errno from the OS
  return {rc, lmdb_category()};
}

}  // namespace sluice::storage
