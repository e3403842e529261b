// routes.hpp — turns the config's [[route]] and [queue] tables into the
// queue runner's route table and retry policy (storage/ does not read
// config).
#pragma once
#include <memory>

#include "gateway/config.hpp"
#include "storage/queue_runner.hpp"
#include "storage/routing.hpp"

namespace sluice::gateway {

std::shared_ptr<const storage::RouteTable> build_route_table(const Config& cfg);
storage::RetryPolicy retry_policy(const Config& cfg);

}  // namespace sluice::gateway
