// config_filters.hpp — [filters]: which filters run, for whom, how long they
// may take and what a failure means (docs/filters.md, docs/configuration.md).
#pragma once
#include <chrono>

#include "gateway/config.hpp"
#include "gateway/config_values.hpp"

namespace sluice::gateway {

void read_filters(TableReader& r, std::chrono::milliseconds recheck, FiltersConfig& f);

}  // namespace sluice::gateway
